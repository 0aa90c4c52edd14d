/* SPDX-License-Identifier: Apache-2.0 */
/* Linked with one layer's library (whole) and only the layers it may use: if the layer calls into anything
 * else, this program does not link. See meson.build and docs/architecture.md. */
int main(void) {
        return 0;
}
