"""Reports over the event log: formatting, SVG charts, PDF, council lists, calendar feeds, public view."""
