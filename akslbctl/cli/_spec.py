"""The command line's shape for shell completion: commands, options, arguments.

Generated from the Typer app by ``python scripts/regen.py`` (akslbctl.cli.specgen); do not edit.
tests/unit/test_complete.py fails when it is stale. Plain literals: importing this is free.

Per command path ("" is the program): its subcommands; its options as (names, value, repeatable,
help) where value is None for a flag, "" for a value without candidates, a kind ("namespace",
"context", "file", "file:EXT") or ((value, description), ...); its arguments as (name, kind, many).

PARSE: how akslbctl.cli.fast reads the command lines of the commands it runs without typer — per
command its module, its function and its parameters as (name, option names, kind, default as typer
passes it), kind being "args", "flag", "str", "int:MIN" or "duration:MIN".
"""

# ruff: noqa: E501
# fmt: off

COMMANDS = {
    '': {
        'help': 'Why does the Azure Load Balancer (not) send traffic to the nodes of my AKS Service?',
        'commands': ('explain', 'probe', 'diff', 'capture', 'completion', 'version', 'lab'),
        'options': (
            (('--version',), None, False, 'Print the version and exit'),
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
        ),
    },
    'explain': {
        'help': 'Which nodes the Azure LB treats as up for a Service, and why',
        'commands': (),
        'options': (
            (('--namespace', '-n'), 'namespace', False, "Namespace (default: the context's)"),
            (('--context',), 'context', False, 'kubeconfig context (default: current)'),
            (('--kubeconfig',), 'file', False, 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)'),
            (('--subscription',), '', False, "Azure subscription id (default: from a Node's providerID)"),
            (('--resource-group', '-g'), '', False, "Node resource group MC_… (default: from a Node's providerID)"),
            (('--arm-endpoint',), '', False, 'ARM endpoint (default: $AKSLBCTL_ARM_ENDPOINT, management.azure.com)'),
            (('--filename', '-f'), 'file', False, 'Analyse offline: a case file (akslbctl capture) or a folder of raw kubectl/az -o json dum…'),
            (('--all-namespaces', '-A'), None, False, 'Every LoadBalancer Service of every namespace: one row each'),
            (('--selector', '-l'), '', False, 'LoadBalancer Services matching this label selector: one row each'),
            (('--tree',), None, False, 'Show a tree: frontend → rules → probes → nodes → pods'),
            (('--svg',), 'file:svg', False, 'Also save the table or tree as an SVG picture in this file'),
            (('--png',), 'file:png', False, 'Also save the table or tree as a PNG picture in this file (for tickets that show no SVG)'),
            (('--output', '-o'), (('table', 'table for people (default)'), ('wide', 'table with addresses, expectations and latencies'), ('json', 'versioned JSON document'), ('yaml', 'versioned YAML document')), False, 'table, wide, json or yaml'),
            (('--all-nodes',), None, False, "Print every node's row; above 20 nodes the table otherwise shows the nodes worth reading…"),
            (('--timeout',), '', False, 'How long each probe may take, as a whole (5s, 500ms; plain: seconds)'),
            (('--no-probe',), None, False, 'Do not probe the nodes'),
            (('--no-azure-health',), None, False, "Do not ask ARM's rule-health operation for Azure's own view"),
            (('--provider-version',), '', False, 'Assume this cloud-provider-azure version (e.g. v1.24.10)'),
            (('--request-timeout',), '', False, 'How long to wait for each Kubernetes/ARM request (5s, 500ms; a plain number is seconds)'),
            (('--deadline',), '', False, 'How long the whole command may take, every request and probe included; exit 3 when it pas…'),
            (('--debug',), None, False, 'Log request lines and statuses to stderr (never tokens)'),
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('resource', 'service', True),
        ),
    },
    'probe': {
        'help': "Probe every pool member as the LB does, round after round: last result, LB state, Azure's…",
        'commands': (),
        'options': (
            (('--namespace', '-n'), 'namespace', False, "Namespace (default: the context's)"),
            (('--context',), 'context', False, 'kubeconfig context (default: current)'),
            (('--kubeconfig',), 'file', False, 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)'),
            (('--subscription',), '', False, "Azure subscription id (default: from a Node's providerID)"),
            (('--resource-group', '-g'), '', False, "Node resource group MC_… (default: from a Node's providerID)"),
            (('--arm-endpoint',), '', False, 'ARM endpoint (default: $AKSLBCTL_ARM_ENDPOINT, management.azure.com)'),
            (('--output', '-o'), (('table', 'table for people (default)'), ('json', 'JSON Lines: one ProbeRound document per round')), False, 'table (a live table on a terminal, lines when piped) or json'),
            (('--count',), '', False, 'Rounds to run (default: the largest probe threshold + 1, AKS: 3)'),
            (('--interval',), '', False, "Time between rounds (default: the probe's intervalInSeconds)"),
            (('--watch', '-w'), None, False, 'Probe round after round until Ctrl-C'),
            (('--timeout',), '', False, 'How long each probe may take, as a whole (5s, 500ms; plain: seconds)'),
            (('--no-azure-health',), None, False, "Do not ask ARM's rule-health operation for Azure's own view"),
            (('--provider-version',), '', False, 'Assume this cloud-provider-azure version (e.g. v1.24.10)'),
            (('--request-timeout',), '', False, 'How long to wait for each Kubernetes/ARM request (5s, 500ms; a plain number is seconds)'),
            (('--deadline',), '', False, "How long collecting the evidence may take, then each round (probes, Azure's view); exit 3…"),
            (('--debug',), None, False, 'Log request lines and statuses to stderr (never tokens)'),
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('resource', 'service', True),
        ),
    },
    'diff': {
        'help': "What differs between the Service's Azure LB and what the cloud provider would configure",
        'commands': (),
        'options': (
            (('--namespace', '-n'), 'namespace', False, "Namespace (default: the context's)"),
            (('--context',), 'context', False, 'kubeconfig context (default: current)'),
            (('--kubeconfig',), 'file', False, 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)'),
            (('--subscription',), '', False, "Azure subscription id (default: from a Node's providerID)"),
            (('--resource-group', '-g'), '', False, "Node resource group MC_… (default: from a Node's providerID)"),
            (('--arm-endpoint',), '', False, 'ARM endpoint (default: $AKSLBCTL_ARM_ENDPOINT, management.azure.com)'),
            (('--filename', '-f'), 'file', False, 'Analyse offline: a case file (akslbctl capture) or a folder of raw kubectl/az -o json dum…'),
            (('--output', '-o'), (('table', 'table for people (default)'), ('json', 'versioned JSON document'), ('yaml', 'versioned YAML document')), False, 'table, json or yaml'),
            (('--provider-version',), '', False, 'Assume this cloud-provider-azure version (e.g. v1.24.10)'),
            (('--request-timeout',), '', False, 'How long to wait for each Kubernetes/ARM request (5s, 500ms; a plain number is seconds)'),
            (('--deadline',), '', False, 'How long the whole command may take, every request and probe included; exit 3 when it pas…'),
            (('--debug',), None, False, 'Log request lines and statuses to stderr (never tokens)'),
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('resource', 'service', True),
        ),
    },
    'capture': {
        'help': "Write a case file: the Service's evidence, Azure's view and one round of probe results, f…",
        'commands': (),
        'options': (
            (('--namespace', '-n'), 'namespace', False, "Namespace (default: the context's)"),
            (('--context',), 'context', False, 'kubeconfig context (default: current)'),
            (('--kubeconfig',), 'file', False, 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)'),
            (('--subscription',), '', False, "Azure subscription id (default: from a Node's providerID)"),
            (('--resource-group', '-g'), '', False, "Node resource group MC_… (default: from a Node's providerID)"),
            (('--arm-endpoint',), '', False, 'ARM endpoint (default: $AKSLBCTL_ARM_ENDPOINT, management.azure.com)'),
            (('--filename', '-f'), 'file', False, 'The case file to write (e.g. case.json)'),
            (('--redact',), None, False, 'Replace subscription and tenant ids, resource-group names and public IPs with consistent…'),
            (('--timeout',), '', False, 'How long each probe may take, as a whole (5s, 500ms; plain: seconds)'),
            (('--no-probe',), None, False, 'Record no probe results'),
            (('--no-azure-health',), None, False, "Do not ask ARM's rule-health operation for Azure's own view"),
            (('--request-timeout',), '', False, 'How long to wait for each Kubernetes/ARM request (5s, 500ms; a plain number is seconds)'),
            (('--deadline',), '', False, 'How long the whole command may take, every request and probe included; exit 3 when it pas…'),
            (('--debug',), None, False, 'Log request lines and statuses to stderr (never tokens)'),
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('resource', 'service', True),
        ),
    },
    'completion': {
        'help': "Print the completion script for bash, zsh, fish or PowerShell (see 'Shell completion' in…",
        'commands': (),
        'options': (
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('shell', (('bash', 'print the bash completion script'), ('zsh', 'print the zsh completion script'), ('fish', 'print the fish completion script'), ('powershell', 'print the powershell completion script')), False),
        ),
    },
    'version': {
        'help': "Print akslbctl's version (and Python's, and the client libraries')",
        'commands': (),
        'options': (
            (('--output', '-o'), (('text', 'one line (default)'), ('json', 'versioned JSON document'), ('yaml', 'versioned YAML document')), False, 'text, json or yaml'),
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
        ),
    },
    'lab': {
        'help': 'A simulated AKS cluster on loopback, to try akslbctl without one',
        'commands': ('list', 'run', 'up'),
        'options': (
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
        ),
    },
    'lab list': {
        'help': "List the lab's scenarios",
        'commands': (),
        'options': (
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
        ),
    },
    'lab run': {
        'help': 'Start a scenario, run one akslbctl command against it (default: explain its Service), sto…',
        'commands': (),
        'options': (
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('scenario', (('cluster-tcp', 'Cluster policy, Tcp probe on nodePort 30396: all 3 nodes up — kube-pr…'), ('local-http', 'Local policy, Http probe /healthz on healthCheckNodePort 32649: node…'), ('appprotocol-404', 'appProtocol: http makes the probe Http on / of nodePort 31380; the in…'), ('stale-probe-port', 'The probe still targets the old nodePort 31000 while the Service now…'), ('node-missing-from-pool', 'Node 2 is missing from the kubernetes backend pool: the LB neither pr…'), ('hanging-health', "Local policy; node 1's health check port 32650 accepts and never answ…"), ('no-endpoints', 'Cluster policy with no ready pod anywhere: kube-proxy rejects nodePor…'), ('internal-lb', 'Internal Service on LB kubernetes-internal with private frontend 10.2…'), ('node-ip-pool', 'IP-based backend pool (nodeIP): members are node addresses, not NIC i…'), ('shared-probe', 'Shared probe mode: every rule uses cluster-service-shared-health-prob…'), ('udp-no-probe', 'UDP port 53 in servicenodeport mode: the rule has no health probe, so…'), ('multi-service', 'Three LoadBalancer Services in two namespaces (default/web Cluster, d…'), ('rule-health-forbidden', 'As cluster-tcp, but the identity may not call the rule-health action…'), ('nsg-blocks-probe', 'Every node answers on nodePort 30396, yet Azure reports Down_Probe_Tc…'), ('large', 'N nodes (default 1000; large:5000) with one Cluster Service, Tcp prob…'), ('stale-request-path', 'The request-path annotation now says /healthz, but the probe still as…'), ('missing-rule', 'Port 443 (nodePort 30443) was added to the Service, but the LB has no…'), ('stale-rule', 'A rule and Tcp probe for port 8080, since removed from the Service, a…'), ('invalid-annotation', "The health-probe-interval annotation is 3 (minimum 5): the provider's…"), ('large-local', 'N nodes (default 1000; large-local:5000), Local policy, Http probe /h…'), ('mixed-30', '30 nodes, Local policy, Http probe /healthz on healthCheckNodePort 32…'), ('laptop-azure-up', 'local-http seen from a laptop that reaches no node: every probe of ou…'), ('laptop-no-azure', 'As laptop-azure-up, but the rule-health action is forbidden too (403)…'), ('nsg-subnet-blocks-probe', 'Subnet NSG custom-subnet-nsg rule DenyInternet (400, Deny, source *)…'), ('nsg-nic-blocks-probe', 'Node NSG rule DenyAzureLB (400, Deny, source *) covers probe port 303…'), ('nsg-subnet-no-client-rule', "Subnet NSG custom-subnet-nsg has only Azure's default rules: Internet…"), ('dualstack-ipv6-down', 'Dual-stack Cluster Service on Cilium, Tcp probes on nodePort 30396: t…'), ('pls-proxy-protocol', 'Internal Local Service behind a Private Link Service with proxy proto…'), ('nsg-byo-vnet-forbidden', 'cluster-tcp on a BYO VNet corp-vnet in resource group rg-network, whi…'), ('pending-permission', 'Internal Service stuck <pending>: SyncLoadBalancerFailed ×12, Authori…'), ('pending-subnet-full', 'Internal Service stuck <pending>: SubnetIsFull (track-2 message, HTTP…'), ('pending-pip-quota', 'Public Service stuck <pending>: PublicIPCountLimitReached (track-2, H…'), ('pending-pip-missing', 'Public Service stuck <pending>: the azure-pip-name annotation names p…'), ('pending-sku-mismatch', 'Public Service stuck <pending>: the Standard LB cannot use the Basic…'), ('pending-throttled', 'Public Service stuck <pending>: ARM throttles the cloud provider (HTT…'), ('pending-invalid-probe', 'Kubernetes 1.21 (cloud provider ≤ v1.23.3): externalTrafficPolicy Loc…'), ('pending-no-events', 'Public Service stuck <pending> and the cloud provider has written no…'), ('update-failing', 'cluster-tcp whose last reconcile failed after it was built (UpdateLoa…'), ('pool-nic-other-lb', "Node 2's NIC ipConfiguration is already in pool corp-pool of the user…"), ('virtual-node', 'cluster-tcp plus an ACI virtual node (virtual-kubelet, no providerID)…'), ('vm-stopped', "Node 2's VM is deallocated: the node is NotReady, answers nothing, an…"), ('notready-new', 'Kubernetes 1.29: node 1 is NotReady but stays in the pool (StableLoad…'), ('notready-old', 'Kubernetes 1.26: node 1 is NotReady and still in the pool; the v1.26…'), ('cordoned', 'Kubernetes 1.29: node 1 is cordoned (unschedulable); cordoned nodes s…'), ('cordoned-old', 'Kubernetes 1.18: node 1 is cordoned; before 1.19 the service controll…'), ('app-403-header', 'The probe is Http /healthz on nodePort 31380, but an ingress rule ans…'), ('gateway-data-port', 'An Istio-like gateway: appProtocol http makes the probe Http / on dat…'), ('netpol-cross-node', '5 nodes, Cluster policy, pods on nodes 0 and 1; NetworkPolicy allow-c…'), ('netpol-local-clients', 'Local policy with loadBalancerSourceRanges 203.0.113.0/24, but Networ…'), ('local-uneven-share', 'Local policy with 1, 3 and 2 pods on nodes 0, 1 and 2: the LB gives e…')), False),
            ('command', 'command', True),
        ),
    },
    'lab up': {
        'help': 'Start a scenario and keep it running; prints the environment to point akslbctl at it',
        'commands': (),
        'options': (
            (('--help', '-h'), None, False, 'Show this message and exit'),
        ),
        'args': (
            ('scenario', (('cluster-tcp', 'Cluster policy, Tcp probe on nodePort 30396: all 3 nodes up — kube-pr…'), ('local-http', 'Local policy, Http probe /healthz on healthCheckNodePort 32649: node…'), ('appprotocol-404', 'appProtocol: http makes the probe Http on / of nodePort 31380; the in…'), ('stale-probe-port', 'The probe still targets the old nodePort 31000 while the Service now…'), ('node-missing-from-pool', 'Node 2 is missing from the kubernetes backend pool: the LB neither pr…'), ('hanging-health', "Local policy; node 1's health check port 32650 accepts and never answ…"), ('no-endpoints', 'Cluster policy with no ready pod anywhere: kube-proxy rejects nodePor…'), ('internal-lb', 'Internal Service on LB kubernetes-internal with private frontend 10.2…'), ('node-ip-pool', 'IP-based backend pool (nodeIP): members are node addresses, not NIC i…'), ('shared-probe', 'Shared probe mode: every rule uses cluster-service-shared-health-prob…'), ('udp-no-probe', 'UDP port 53 in servicenodeport mode: the rule has no health probe, so…'), ('multi-service', 'Three LoadBalancer Services in two namespaces (default/web Cluster, d…'), ('rule-health-forbidden', 'As cluster-tcp, but the identity may not call the rule-health action…'), ('nsg-blocks-probe', 'Every node answers on nodePort 30396, yet Azure reports Down_Probe_Tc…'), ('large', 'N nodes (default 1000; large:5000) with one Cluster Service, Tcp prob…'), ('stale-request-path', 'The request-path annotation now says /healthz, but the probe still as…'), ('missing-rule', 'Port 443 (nodePort 30443) was added to the Service, but the LB has no…'), ('stale-rule', 'A rule and Tcp probe for port 8080, since removed from the Service, a…'), ('invalid-annotation', "The health-probe-interval annotation is 3 (minimum 5): the provider's…"), ('large-local', 'N nodes (default 1000; large-local:5000), Local policy, Http probe /h…'), ('mixed-30', '30 nodes, Local policy, Http probe /healthz on healthCheckNodePort 32…'), ('laptop-azure-up', 'local-http seen from a laptop that reaches no node: every probe of ou…'), ('laptop-no-azure', 'As laptop-azure-up, but the rule-health action is forbidden too (403)…'), ('nsg-subnet-blocks-probe', 'Subnet NSG custom-subnet-nsg rule DenyInternet (400, Deny, source *)…'), ('nsg-nic-blocks-probe', 'Node NSG rule DenyAzureLB (400, Deny, source *) covers probe port 303…'), ('nsg-subnet-no-client-rule', "Subnet NSG custom-subnet-nsg has only Azure's default rules: Internet…"), ('dualstack-ipv6-down', 'Dual-stack Cluster Service on Cilium, Tcp probes on nodePort 30396: t…'), ('pls-proxy-protocol', 'Internal Local Service behind a Private Link Service with proxy proto…'), ('nsg-byo-vnet-forbidden', 'cluster-tcp on a BYO VNet corp-vnet in resource group rg-network, whi…'), ('pending-permission', 'Internal Service stuck <pending>: SyncLoadBalancerFailed ×12, Authori…'), ('pending-subnet-full', 'Internal Service stuck <pending>: SubnetIsFull (track-2 message, HTTP…'), ('pending-pip-quota', 'Public Service stuck <pending>: PublicIPCountLimitReached (track-2, H…'), ('pending-pip-missing', 'Public Service stuck <pending>: the azure-pip-name annotation names p…'), ('pending-sku-mismatch', 'Public Service stuck <pending>: the Standard LB cannot use the Basic…'), ('pending-throttled', 'Public Service stuck <pending>: ARM throttles the cloud provider (HTT…'), ('pending-invalid-probe', 'Kubernetes 1.21 (cloud provider ≤ v1.23.3): externalTrafficPolicy Loc…'), ('pending-no-events', 'Public Service stuck <pending> and the cloud provider has written no…'), ('update-failing', 'cluster-tcp whose last reconcile failed after it was built (UpdateLoa…'), ('pool-nic-other-lb', "Node 2's NIC ipConfiguration is already in pool corp-pool of the user…"), ('virtual-node', 'cluster-tcp plus an ACI virtual node (virtual-kubelet, no providerID)…'), ('vm-stopped', "Node 2's VM is deallocated: the node is NotReady, answers nothing, an…"), ('notready-new', 'Kubernetes 1.29: node 1 is NotReady but stays in the pool (StableLoad…'), ('notready-old', 'Kubernetes 1.26: node 1 is NotReady and still in the pool; the v1.26…'), ('cordoned', 'Kubernetes 1.29: node 1 is cordoned (unschedulable); cordoned nodes s…'), ('cordoned-old', 'Kubernetes 1.18: node 1 is cordoned; before 1.19 the service controll…'), ('app-403-header', 'The probe is Http /healthz on nodePort 31380, but an ingress rule ans…'), ('gateway-data-port', 'An Istio-like gateway: appProtocol http makes the probe Http / on dat…'), ('netpol-cross-node', '5 nodes, Cluster policy, pods on nodes 0 and 1; NetworkPolicy allow-c…'), ('netpol-local-clients', 'Local policy with loadBalancerSourceRanges 203.0.113.0/24, but Networ…'), ('local-uneven-share', 'Local policy with 1, 3 and 2 pods on nodes 0, 1 and 2: the LB gives e…')), False),
        ),
    },
}

PARSE = {
    'explain': ('akslbctl.cli.explain', 'explain', (
        ('resource', (), 'args', None),
        ('namespace', ('--namespace', '-n'), 'str', None),
        ('context', ('--context',), 'str', None),
        ('kubeconfig', ('--kubeconfig',), 'str', None),
        ('subscription', ('--subscription',), 'str', None),
        ('resource_group', ('--resource-group', '-g'), 'str', None),
        ('arm_endpoint', ('--arm-endpoint',), 'str', None),
        ('filename', ('--filename', '-f'), 'str', None),
        ('all_namespaces', ('--all-namespaces', '-A'), 'flag', False),
        ('selector', ('--selector', '-l'), 'str', None),
        ('tree', ('--tree',), 'flag', False),
        ('svg', ('--svg',), 'str', None),
        ('png', ('--png',), 'str', None),
        ('output', ('--output', '-o'), 'str', 'table'),
        ('all_nodes', ('--all-nodes',), 'flag', False),
        ('timeout', ('--timeout',), 'duration:0.05', 5.0),
        ('no_probe', ('--no-probe',), 'flag', False),
        ('no_azure_health', ('--no-azure-health',), 'flag', False),
        ('provider_version', ('--provider-version',), 'str', None),
        ('request_timeout', ('--request-timeout',), 'duration:0.1', 10.0),
        ('deadline', ('--deadline',), 'duration:0.1', 120.0),
        ('debug', ('--debug',), 'flag', False),
    )),
    'diff': ('akslbctl.cli.diff', 'diff', (
        ('resource', (), 'args', None),
        ('namespace', ('--namespace', '-n'), 'str', None),
        ('context', ('--context',), 'str', None),
        ('kubeconfig', ('--kubeconfig',), 'str', None),
        ('subscription', ('--subscription',), 'str', None),
        ('resource_group', ('--resource-group', '-g'), 'str', None),
        ('arm_endpoint', ('--arm-endpoint',), 'str', None),
        ('filename', ('--filename', '-f'), 'str', None),
        ('output', ('--output', '-o'), 'str', 'table'),
        ('provider_version', ('--provider-version',), 'str', None),
        ('request_timeout', ('--request-timeout',), 'duration:0.1', 10.0),
        ('deadline', ('--deadline',), 'duration:0.1', 120.0),
        ('debug', ('--debug',), 'flag', False),
    )),
    'probe': ('akslbctl.cli.probe', 'probe', (
        ('resource', (), 'args', None),
        ('namespace', ('--namespace', '-n'), 'str', None),
        ('context', ('--context',), 'str', None),
        ('kubeconfig', ('--kubeconfig',), 'str', None),
        ('subscription', ('--subscription',), 'str', None),
        ('resource_group', ('--resource-group', '-g'), 'str', None),
        ('arm_endpoint', ('--arm-endpoint',), 'str', None),
        ('output', ('--output', '-o'), 'str', 'table'),
        ('count', ('--count',), 'int:1', None),
        ('interval', ('--interval',), 'duration:0.0', None),
        ('watch', ('--watch', '-w'), 'flag', False),
        ('timeout', ('--timeout',), 'duration:0.05', 5.0),
        ('no_azure_health', ('--no-azure-health',), 'flag', False),
        ('provider_version', ('--provider-version',), 'str', None),
        ('request_timeout', ('--request-timeout',), 'duration:0.1', 10.0),
        ('deadline', ('--deadline',), 'duration:0.1', 120.0),
        ('debug', ('--debug',), 'flag', False),
    )),
    'capture': ('akslbctl.cli.capture', 'capture', (
        ('resource', (), 'args', None),
        ('namespace', ('--namespace', '-n'), 'str', None),
        ('context', ('--context',), 'str', None),
        ('kubeconfig', ('--kubeconfig',), 'str', None),
        ('subscription', ('--subscription',), 'str', None),
        ('resource_group', ('--resource-group', '-g'), 'str', None),
        ('arm_endpoint', ('--arm-endpoint',), 'str', None),
        ('filename', ('--filename', '-f'), 'str', None),
        ('redact', ('--redact',), 'flag', False),
        ('timeout', ('--timeout',), 'duration:0.05', 5.0),
        ('no_probe', ('--no-probe',), 'flag', False),
        ('no_azure_health', ('--no-azure-health',), 'flag', False),
        ('request_timeout', ('--request-timeout',), 'duration:0.1', 10.0),
        ('deadline', ('--deadline',), 'duration:0.1', 120.0),
        ('debug', ('--debug',), 'flag', False),
    )),
}
