"""akslbctl: why the Azure Load Balancer of an AKS Service does (not) send traffic to a node."""

__version__ = "0.1.0"
