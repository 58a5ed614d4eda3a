// Why a target was missed in this run and what would reach it, for the report. Filled in per figure.
export function explainMiss(id) {
  return `No analysis is written for ${id} yet.`
}
