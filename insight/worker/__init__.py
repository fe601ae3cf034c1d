"""The `worker` process: drains the sync queue, writes notes, keeps the phone index fresh."""
