"""Champion against challenger: the shadow answers compared, and the promotion gate."""
