"""Public news items: a summary of the forums held in a period, published to /news and its Atom feed."""
