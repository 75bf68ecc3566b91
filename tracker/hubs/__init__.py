"""Regional recruitment hubs: one front door for a group of councils' enquiries."""
