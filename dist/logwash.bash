# bash completion for logwash(1): options, and their values: formats and policies (the a|b|c
# of `logwash --help`, read at run time so they never go stale), time zones, shipped template
# names for -f, job files, directories. Needs only bash (not the bash-completion package).
_logwash_help_meta()
{
    # the metavariable of option $2 in the help text $1 ("text|json", "FILE", ...)
    printf '%s\n' "$1" | awk -v o="$2" '
        /^  +-/ { spec = substr($0, 3, 34); n = split(spec, w, /[ ,]+/); hit = 0; m = ""
                  for (i = 1; i <= n; i++) { if (w[i] == o) hit = 1; else if (w[i] !~ /^-/ && w[i] != "") m = w[i] }
                  if (hit) { print m; exit } }'
}

_logwash()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local datadir=${LOGWASH_DATADIR:-@DATADIR@} help
    help=$("${COMP_WORDS[0]}" --help 2>/dev/null) || help=$(command logwash --help 2>/dev/null)
    # bash splits --input=js at '=' (COMP_WORDBREAKS): the option is then two words back
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    if [[ $cur == --*=* ]]; then # --input=js as one word
        prev=${cur%%=*}
        cur=${cur#*=}
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" | awk '/^  +-/ { spec = substr($0, 3, 34); n = split(spec, w, /[ ,]+/); for (i = 1; i <= n; i++) if (w[i] ~ /^-/) print w[i] }')" -- "$cur"))
        return
    fi
    local meta=
    [[ $prev == -* ]] && meta=$(_logwash_help_meta "$help" "$prev")
    case $meta in
    "") COMPREPLY=($(compgen -f -- "$cur")) ;; # an input file
    *"|"*) COMPREPLY=($(compgen -W "${meta//|/ }" -- "$cur")) ;;
    ZONE)
        local zones
        zones=$(cd /usr/share/zoneinfo 2>/dev/null && find . -type f ! -path './posix/*' ! -path './right/*' \
            ! -name '*.tab' ! -name '*.zi' ! -name 'leap*' ! -name 'tzdata*' | sed 's|^\./||')
        COMPREPLY=($(compgen -W "UTC $zones" -- "$cur")) ;;
    FILE)
        if [[ $prev == -f || $prev == --file ]]; then
            local names=
            [ -d "$datadir/templates" ] && names=$(cd "$datadir/templates" && ls | sed -n 's/\.lw$//p')
            COMPREPLY=($(compgen -W "$names" -- "$cur") $(compgen -f -- "$cur"))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi ;;
    DIR) COMPREPLY=($(compgen -d -- "$cur")) ;;
    *) COMPREPLY=() ;; # a number, a regex, a topic: nothing to offer
    esac
}
complete -o filenames -F _logwash logwash
