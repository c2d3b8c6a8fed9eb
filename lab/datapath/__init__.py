"""The lab's real data path (``LAB_DATAPATH=real``): Liqo's own gateway containers carry packets.

Every gateway pod the lab's clusters run (central's peerings with the edges, and every shortcut)
becomes Liqo v1.2.0's ``gateway`` and ``wireguard`` binaries as processes in one network namespace
per pod, WireGuard in userspace (a supported chart value; this kernel has no WireGuard module).
The namespaces meet on a WAN router with TEST-NET addresses, so a client gateway dials its server's
LoadBalancer IP for real and Liqo itself writes the Connections and their latencies. Facts and
figures behind the design: ``../shared/studies/real-gateways/README.md``.

``netns`` wraps ``ip``; ``relay`` lets a namespace reach the cluster's API server on loopback;
``wan`` numbers and wires the WAN; ``gateways`` turns a gateway pod into its processes.
"""
