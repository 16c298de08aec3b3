"""Who hears of it: Dutch email templates and their delivery."""
