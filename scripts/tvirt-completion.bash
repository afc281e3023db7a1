# bash completion for tvirt: commands, options and domain names.
# Install: copy to /usr/share/bash-completion/completions/tvirt, or `source` it from ~/.bashrc.
# The candidates come from `tvirt complete -- LINE`, which knows the command table and asks the
# connection named by -c (or the default URI) for domain names.

_tvirt_complete() {
    local cur line prev
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    line="${COMP_LINE:0:COMP_POINT}"

    case "$prev" in
        -c|--connect)
            COMPREPLY=($(compgen -W "test:///default qemu:///system qemu:///session" -- "$cur"))
            return 0
            ;;
    esac

    # Global options before the command.
    if [[ "$cur" == -* ]]; then
        local i=1 seen_cmd=0
        while [ $i -lt $COMP_CWORD ]; do
            case "${COMP_WORDS[i]}" in
                -c|--connect) i=$((i + 1)) ;;
                -*) ;;
                *) seen_cmd=1; break ;;
            esac
            i=$((i + 1))
        done
        if [ $seen_cmd -eq 0 ]; then
            COMPREPLY=($(compgen -W "-c --connect -r --readonly -q --quiet --json -h --help -v --version" -- "$cur"))
            return 0
        fi
    fi

    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" -q complete -- "$line" 2>/dev/null)" -- "$cur"))
    return 0
}

complete -o default -F _tvirt_complete tvirt
