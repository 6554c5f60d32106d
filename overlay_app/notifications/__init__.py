"""In-app notifications: mentions, replies and likes, written with the write that caused them."""
