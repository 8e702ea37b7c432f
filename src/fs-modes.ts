// What Chute writes to disk is its own user's only: the SQLite database holds the key that signs
// download links, the media folder everyone's files. Folders it creates are 0700, files 0600; a
// umask can only take more away. A folder that already exists keeps the mode its owner gave it.
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
