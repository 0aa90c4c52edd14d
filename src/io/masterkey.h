/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The 32-byte master key that wraps secrets at rest (AES-256-GCM, src/crypto). It never enters the database.
 *
 * Where it comes from, first match wins:
 *   1. an explicit path (MasterKeyFile= / meshprovctl --key-file);
 *   2. $CREDENTIALS_DIRECTORY/meshprov-master-key (systemd LoadCredential= / LoadCredentialEncrypted=),
 *      if that file exists;
 *   3. <directory of the database>/master.key.
 * With MASTER_KEY_CREATE and no file at 3., a new random key is written there (0600, O_EXCL, fsync).
 *
 * File content: exactly 32 raw bytes, or 64 hex digits optionally followed by a newline. A key file that
 * group or other may access (mode & 077) is refused with -EPERM. Errors are logged here with the path
 * (never the key); callers only add what they were doing. Buffers that held key material are wiped. */

#include "macro.h"
#include "provcrypto.h"

#define MASTER_KEY_SIZE            KEYWRAP_MASTER_KEY_SIZE
#define MASTER_KEY_CREDENTIAL_NAME "meshprov-master-key"
#define MASTER_KEY_DEFAULT_NAME    "master.key"

typedef enum MasterKeyFlags {
        MASTER_KEY_CREATE = 1 << 0, /* create <db dir>/master.key when no key file exists */
} MasterKeyFlags;

typedef enum MasterKeySource {
        MASTER_KEY_SOURCE_PATH,       /* the explicit path */
        MASTER_KEY_SOURCE_CREDENTIAL, /* $CREDENTIALS_DIRECTORY */
        MASTER_KEY_SOURCE_DB_DIR,     /* next to the database */
        _MASTER_KEY_SOURCE_MAX,
        _MASTER_KEY_SOURCE_INVALID = -EINVAL,
} MasterKeySource;

/* Reads and parses one key file. -EPERM if group/other may access it, -EBADMSG if the content is neither
 * form (or the key is all zeros), -ENOENT if missing, -EISDIR/-EBADFD if not a regular file. Logs on
 * failure. */
int master_key_read_file(const char *path, uint8_t ret_key[static MASTER_KEY_SIZE]);

/* Finds the key as described above. path may be NULL; db_path may be NULL or ":memory:" only if path is
 * given or a credential exists. Returns 0 if an existing key was loaded, 1 if a new one was created.
 * ret_path (optional) receives the file used, ret_source (optional) where it was found. */
int master_key_load(const char *path, const char *db_path, MasterKeyFlags flags,
                    uint8_t ret_key[static MASTER_KEY_SIZE], char **ret_path, MasterKeySource *ret_source);

/* Creates a new key file at path (0600, O_EXCL: -EEXIST if something is there), 64 hex digits + newline,
 * fsync'ed together with its directory. ret_key: NULL, or MASTER_KEY_SIZE bytes that receive the new key. */
int master_key_create(const char *path, uint8_t *ret_key);

const char *master_key_source_to_string(MasterKeySource s); /* "path", "credential", "database directory" */
