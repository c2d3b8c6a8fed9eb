"""liqo-shortcut: direct Liqo network peerings between two edge clusters, made and owned from the
central cluster, by a kubectl plugin (`liqoshortcut.cli`) and an operator (`liqoshortcut.operator`)
that share one workflow.
"""

__version__ = "0.1.0"
