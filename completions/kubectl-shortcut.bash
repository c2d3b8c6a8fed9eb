_kubectl_shortcut_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _KUBECTL_SHORTCUT_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _kubectl_shortcut_completion kubectl-shortcut
