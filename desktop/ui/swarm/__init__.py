"""The Swarm section: nodes, services, stacks, secrets and configs of a swarm manager."""
