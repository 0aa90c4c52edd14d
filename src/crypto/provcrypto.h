/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Cryptography of the provisioning DATA packet (ref-provisioning.md §10), key wrapping at rest, key
 * fingerprints and vendor key derivation. The only place in the tree that includes OpenSSL headers.
 *
 * Traps handled here: the factory key is [auth 16][enc 16]; the MIC is the first 5 bytes of AES-128-CMAC over
 * prefix(9)||CBOR; the CTR counter block is LE128(IV) + counter, incremented as a 128-bit little-endian
 * number modulo 2^128 (OpenSSL's aes-128-ctr counts big-endian and is NOT used: the key stream is built from
 * AES-128-ECB). */

#include "limits.h"
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
 * out must hold cbor_len + PROV_MIC_SIZE bytes. factory_key = [auth 16][enc 16]. */
int prov_data_seal(const uint8_t factory_key[static PROV_FACTORY_KEY_SIZE], const uint8_t iv[static PROV_IV_SIZE],
                   const uint8_t prefix[static PROV_DATA_HEADER_SIZE], const uint8_t *cbor, size_t cbor_len,
                   uint8_t *out, size_t outsz);
/* The reverse: decrypts ct (CBOR || MIC, ct_len > 5) into out (ct_len - 5 bytes of CBOR) and checks the MIC
 * in constant time. -EBADMSG on MIC mismatch (out is then wiped). */
int prov_data_open(const uint8_t factory_key[static PROV_FACTORY_KEY_SIZE], const uint8_t iv[static PROV_IV_SIZE],
                   const uint8_t prefix[static PROV_DATA_HEADER_SIZE], const uint8_t *ct, size_t ct_len,
                   uint8_t *out, size_t outsz);

/* Secrets at rest: AES-256-GCM under a 32-byte master key. The blob is
 * version(1) || nonce(12) || ciphertext(len) || tag(16); aad binds it to its row (e.g. "vendor:acme").
 * keywrap_seal returns the blob length (len + KEYWRAP_OVERHEAD). keywrap_open returns the plaintext length,
 * -EBADMSG if the blob is damaged or the key / aad is wrong. */
#define KEYWRAP_MASTER_KEY_SIZE 32u
#define KEYWRAP_OVERHEAD        (1u + 12u + 16u)
int keywrap_seal(const uint8_t master[static KEYWRAP_MASTER_KEY_SIZE], const char *aad, const uint8_t *plain,
                 size_t len, uint8_t *out, size_t outsz);
int keywrap_open(const uint8_t master[static KEYWRAP_MASTER_KEY_SIZE], const char *aad, const uint8_t *blob,
                 size_t blob_len, uint8_t *out, size_t outsz);

/* "sha256:" + first 8 bytes of SHA-256(key) in hex: identifies a key without revealing it. buf >= 24. */
#define KEY_FINGERPRINT_MAX 24u
char *key_fingerprint(const uint8_t *key, size_t len, char *buf, size_t bufsz);

/* Per-device factory key from a vendor master key:
 * HMAC-SHA256(master, "meshprov factory key v1" || 0x00 || uid) -> 32 bytes = [auth 16][enc 16]. */
int prov_derive_factory_key(const uint8_t master[static 32], const uint8_t *uid, size_t uid_len,
                            uint8_t out[static PROV_FACTORY_KEY_SIZE]);
