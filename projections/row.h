/* projections/row.h — the stored form of a session row (p_sessions).
 *
 * Pure functions, no I/O. A row is stored compactly: fixed integers
 * big-endian, then each string as a length byte and its bytes, then the
 * row's digest term (XXH3_64 of its canonical text) so that removing or
 * replacing a row needs no re-serialising:
 *
 *   version(1) = 1 ‖ flags(4) ‖ entry_ts, confirm_ts, exit_ts,
 *   fee_charged, fee_tariff (8 each) ‖ id, plate, plate_view, vehicle,
 *   primary, entry_edge, entry_origin, exit_id, exit_edge, exit_origin
 *   (len(1) ‖ bytes each) ‖ hash(8)
 *
 * About 130 bytes for a typical row, where the in-memory proj_session is
 * 448: the sessions table is the largest projection, and every byte of a
 * rewritten row is written again at commit.
 */
#ifndef PARKLOG_PROJ_ROW_H
#define PARKLOG_PROJ_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "projections/fold.h"

/* The largest stored row. */
#define PROJ_ROW_MAX (1 + 4 + 5 * 8 + 10 * (1 + 255) + 8)

/* Encode s and its hash h into buf (at least PROJ_ROW_MAX bytes); returns
 * the length. Strings are taken up to their field's size - 1. */
size_t proj_row_encode(const proj_session *s, uint64_t h, uint8_t *buf);

/* Decode a stored row into *s (and its hash into *h if not NULL): 0, or
 * EINVAL if buf is not exactly one well-formed row (then *s is undefined). */
int proj_row_decode(const uint8_t *buf, size_t len, proj_session *s, uint64_t *h);

#endif
