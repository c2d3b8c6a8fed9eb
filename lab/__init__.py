"""The local three-cluster lab: real etcd, kube-apiserver and kube-controller-manager per cluster.

A test fixture and a demo bed, never imported by the product (``liqoshortcut``).
"""
