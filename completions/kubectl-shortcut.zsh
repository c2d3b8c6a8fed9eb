#compdef kubectl-shortcut

_kubectl_shortcut_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _KUBECTL_SHORTCUT_COMPLETE=complete_zsh kubectl-shortcut)
}

compdef _kubectl_shortcut_completion kubectl-shortcut
