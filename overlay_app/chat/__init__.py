"""Chat: rooms and messages (api, pages), who may see a room (access), writes (actions,
room_actions), reads and JSON shapes (reads)."""
