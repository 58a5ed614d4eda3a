#!/bin/sh
# An example worker: says which queues it polls, "works" now and then, and on QUIT finishes and exits
# as a Resque worker does. Real pools run e.g. `bundle exec rake resque:work` instead.
echo "Starting worker $(hostname):$$:$QUEUE"
trap 'echo "QUIT: finishing up"; exit 0' QUIT INT TERM
n=0
while :; do
  sleep 1
  n=$((n + 1))
  [ $((n % 5)) -eq 0 ] && echo "worked job $n from $QUEUE"
done
