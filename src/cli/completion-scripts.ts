// What rpd adds to the completion scripts oclif's autocomplete plugin writes: the plugin completes commands
// and flags; rpd adds the pool's queue group names (from `rpd complete-groups`) where a command takes a group,
// flags after arguments (`rpd scale foo=2 --no-wait`), directories for --state-dir and signal names for kill.

export interface CompletionCommand {
  id: string
  // Flags that take a value, as typed: `--timeout`, `-n`.
  valueFlags: string[]
}

// Commands whose arguments are groups; a spec argument completes as `group=`.
export const GROUP_ARGUMENTS: Readonly<Record<string, 'group' | 'spec'>> = {
  autoscale: 'group',
  restart: 'group',
  scale: 'spec',
  tune: 'group',
}

// Flags whose value is a group.
export const GROUP_FLAGS: Readonly<Record<string, readonly string[]>> = { logs: ['--group'] }

export const KILL_SIGNALS = ['QUIT', 'TERM', 'INT', 'HUP', 'USR1', 'USR2', 'CONT', 'KILL']

const MARK = '# rpd: queue groups'

// A bash word list, for a `case` pattern of literal words.
const casePattern = (words: readonly string[]) => words.map((word) => `'${word}'`).join('|')

// The plugin's bash script with rpd's completion function registered in front of the plugin's.
export function extendBashScript(
  script: string,
  bin: string,
  commands: readonly CompletionCommand[],
): string {
  if (script.includes(MARK)) return script
  const valueFlagCases = commands
    .filter((command) => command.valueFlags.length)
    .map((command) => `    '${command.id}') values=(${command.valueFlags.join(' ')}) ;;`)
    .join('\n')
  const groupFlags = Object.values(GROUP_FLAGS).flat()
  const argumentCases = Object.entries(GROUP_ARGUMENTS)
    .map(([id, kind]) => `    '${id}') _${bin}_offer_groups "$cur" ${kind === 'spec' ? '=' : ''} ;;`)
    .join('\n')
  return `${script.trimEnd()}

${MARK} (rpd complete-groups), flags after arguments, --state-dir directories.
_${bin}_groups()
{
  local dir="" i
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [[ "\${COMP_WORDS[i]}" == --state-dir ]]; then
      dir="\${COMP_WORDS[i+1]}"
      [[ "$dir" == "=" ]] && dir="\${COMP_WORDS[i+2]}"
    fi
  done
  dir="\${dir/#\\~/$HOME}"
  command ${bin} complete-groups \${dir:+--state-dir "$dir"} 2>/dev/null
}

# Offers the groups that start with $1, each followed by $2 (no space after a spec's "=").
_${bin}_offer_groups()
{
  local group
  while IFS= read -r group; do
    [[ "$group" == "*" || "$group" != "$1"* ]] && continue
    COMPREPLY+=("$group$2")
  done < <(_${bin}_groups)
  [[ -n "$2" ]] && compopt -o nospace 2>/dev/null
  return 0
}

_${bin}_complete()
{
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" command="\${COMP_WORDS[1]}" flag="" values=()
  COMPREPLY=()
  if (( COMP_CWORD < 2 )); then
    _${bin}_autocomplete
    return
  fi
  # bash splits --flag=value at "=": the flag is then one or two words back.
  if [[ "$cur" == "=" ]]; then
    flag="$prev"
    cur=""
  elif [[ "$prev" == "=" ]]; then
    flag="\${COMP_WORDS[COMP_CWORD-2]}"
  elif [[ "$prev" == -* ]]; then
    flag="$prev"
  fi
  case "$command" in
${valueFlagCases}
  esac
  if [[ -n "$flag" && " \${values[*]} " == *" $flag "* ]]; then
    case "$flag" in
      ${casePattern(groupFlags)})
        _${bin}_offer_groups "$cur"
        [[ "$command" == logs && master == "$cur"* ]] && COMPREPLY+=(master)
        ;;
      --state-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
      *) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    esac
    return 0
  fi
  # Within a spec (foo=...): nothing to offer.
  [[ "$cur" == "=" || "$prev" == "=" ]] && return 0
  if [[ "$cur" == -* ]]; then
    # The plugin finds the flags from the command alone, so it is given just that.
    local COMP_WORDS=("\${COMP_WORDS[0]}" "$command" "$cur") COMP_CWORD=2
    _${bin}_autocomplete
    return
  fi
  case "$command" in
${argumentCases}
    'kill') mapfile -t COMPREPLY < <(compgen -W "${KILL_SIGNALS.join(' ')}" -- "\${cur^^}") ;;
  esac
  return 0
}

complete -F _${bin}_complete ${bin}
`
}

// The plugin's zsh function with groups where a command takes one and directories for --state-dir.
export function extendZshScript(script: string, bin: string): string {
  if (script.includes(MARK)) return script
  const helper = `${MARK} (rpd complete-groups).
_${bin}_groups() {
  local -a groups
  local dir=\${opt_args[--state-dir]}
  groups=(\${(f)"$(command ${bin} complete-groups \${dir:+--state-dir} \${~dir} 2>/dev/null)"})
  compadd "$@" -a groups
}

# rpd logs --group: the groups, and the master's own lines.
_${bin}_log_sources() {
  _${bin}_groups "$@"
  compadd "$@" master
}

`
  let out = script.replace(`\n_${bin}() {`, `\n${helper}_${bin}() {`)
  out = out.replace(/(--state-dir"\[[^\n]*?\]):file:_files"/g, '$1:directory:_files -/"')
  out = out.replace(/^([\w-]+)\)\n_arguments -S \\\n[\s\S]*?;; $/gm, (block, id: string) => {
    let next = block
    for (const flag of GROUP_FLAGS[id] ?? [])
      next = next.replace(
        new RegExp(`(${flag}"\\[[^\\n]*?\\]):file:_files"`),
        `$1:group:_${bin}_${id === 'logs' ? 'log_sources' : 'groups'}"`,
      )
    const kind = GROUP_ARGUMENTS[id]
    if (kind) next = next.replace('"*: :_files"', `"*: :_${bin}_groups${kind === 'spec' ? ' -S =' : ''}"`)
    if (id === 'kill') next = next.replace('"*: :_files"', `"1:signal:(${KILL_SIGNALS.join(' ')})"`)
    return next
  })
  return out
}
