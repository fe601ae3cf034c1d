"""What the service and the console both read: settings, logging, the sync-state vocabulary. Imports neither."""
