/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Cryptography of the provisioning DATA packet (ref-provisioning.md §10), key wrapping at rest, key
 * fingerprints and vendor key derivation. The only place in the tree that includes OpenSSL headers.
 *
 * Traps handled here: the factory key is [auth 16][enc 16]; the MIC is the first 5 bytes of AES-128-CMAC
 * over prefix(9)||CBOR; the CTR counter block is LE128(IV) + counter, incremented as a 128-bit little-endian
 * number modulo 2^128 (OpenSSL's aes-128-ctr counts big-endian and is NOT used: the key stream is built from
 * AES-128-ECB). */

#include "meshprov-limits.h"
#include "macro.h"

/* One AES-128 block encryption (for the simulator's independent node-side implementation). */
int aes128_encrypt_block(const uint8_t key[static 16], const uint8_t in[static 16], uint8_t out[static 16]);
/* Full 16-byte AES-128-CMAC (RFC 4493). */
int aes128_cmac(const uint8_t key[static 16], const uint8_t *data, size_t len, uint8_t out[static 16]);

/* XORs len bytes of buf with the little-endian CTR key stream starting at ICB = LE128(iv) + counter. */
int prov_ctr_xor(const uint8_t enc_key[static 16], const uint8_t iv[static PROV_IV_SIZE], uint16_t counter,
                 uint8_t *buf, size_t len);

/* Builds the encrypted part of a secured DATA packet: out = CTR(enc, ICB, cbor || MIC), where
 * MIC = CMAC(auth, prefix || cbor)[0..4] and the counter is read from prefix[7..8] (LE).
 * out must hold cbor_len + PROV_MIC_SIZE bytes (else -EMSGSIZE) and may start at cbor. factory_key =
 * [auth 16][enc 16]. Returns cbor_len + PROV_MIC_SIZE. -EINVAL if cbor is empty or the prefix is not that of
 * a DATA packet with key index 1 (the node would refuse it). */
int prov_data_seal(const uint8_t factory_key[static PROV_FACTORY_KEY_SIZE],
                   const uint8_t iv[static PROV_IV_SIZE], const uint8_t prefix[static PROV_DATA_HEADER_SIZE],
                   const uint8_t *cbor, size_t cbor_len, uint8_t *out, size_t outsz);
/* The reverse: decrypts ct (CBOR || MIC, ct_len > 5) into out (ct_len - 5 bytes of CBOR; may start at ct)
 * and checks the MIC in constant time. Returns the CBOR length. -EBADMSG on MIC mismatch (out is then
 * wiped), if ct_len <= 5, or if the prefix is not a DATA prefix with key index 1; -EMSGSIZE if outsz is too
 * small. */
int prov_data_open(const uint8_t factory_key[static PROV_FACTORY_KEY_SIZE],
                   const uint8_t iv[static PROV_IV_SIZE], const uint8_t prefix[static PROV_DATA_HEADER_SIZE],
                   const uint8_t *ct, size_t ct_len, uint8_t *out, size_t outsz);

/* Secrets at rest: AES-256-GCM under a 32-byte master key. The blob is
 * version(1) || nonce(12) || ciphertext(len) || tag(16); aad binds it to its row (e.g. "vendor:acme"; NULL
 * is the same as ""); the version byte is authenticated too. The nonce is random (RAND_bytes) for every
 * seal. keywrap_seal returns the blob length (len + KEYWRAP_OVERHEAD). keywrap_open returns the plaintext
 * length, -EBADMSG if the blob is damaged, of an unknown version, or the key / aad is wrong (out is then
 * wiped). Both return -EMSGSIZE if outsz is too small. out must not overlap the input. */
#define KEYWRAP_MASTER_KEY_SIZE 32u
#define KEYWRAP_OVERHEAD        (1u + 12u + 16u)
int keywrap_seal(const uint8_t master[static KEYWRAP_MASTER_KEY_SIZE], const char *aad, const uint8_t *plain,
                 size_t len, uint8_t *out, size_t outsz);
int keywrap_open(const uint8_t master[static KEYWRAP_MASTER_KEY_SIZE], const char *aad, const uint8_t *blob,
                 size_t blob_len, uint8_t *out, size_t outsz);

/* "sha256:" + first 8 bytes of SHA-256(key) in lower-case hex (23 characters): identifies a key without
 * revealing it. Returns buf, or NULL if buf is NULL or bufsz < KEY_FINGERPRINT_MAX. Should hashing itself
 * fail (out of memory), buf holds "sha256:unavailable". */
#define KEY_FINGERPRINT_MAX 24u
char *key_fingerprint(const uint8_t *key, size_t len, char *buf, size_t bufsz);

/* Per-device factory key from a vendor master key:
 * HMAC-SHA256(master, "meshprov factory key v1" || 0x00 || uid) -> 32 bytes = [auth 16][enc 16].
 * -EINVAL unless 1 <= uid_len <= PROV_UID_MAX. */
int prov_derive_factory_key(const uint8_t master[static 32], const uint8_t *uid, size_t uid_len,
                            uint8_t out[static PROV_FACTORY_KEY_SIZE]);
