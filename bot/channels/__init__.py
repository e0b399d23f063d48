"""Channel adapters: each turns a messenger's updates into `Inbound`s and `Outbound`s into its API calls."""
