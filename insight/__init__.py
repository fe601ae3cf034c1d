"""The callbridge service: webhooks, Insight Cards, ops API, worker, Bullhorn and Aircall clients."""
