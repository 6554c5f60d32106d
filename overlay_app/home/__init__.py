"""Home: what is happening for the person — recent discussions on documents they may open,
mentions and replies waiting, popular tags, chats with unread messages, the sites one click
away, and a first-run guide for someone who has not joined in yet."""
