/*
 * hashpipe.h - SHA-256 on a second thread, so that hashing (CPU) overlaps
 * reading and writing (I/O). The caller fills a slot, pushes it to the
 * hasher, and may go on reading that slot (to write it out) until it asks
 * for the next one. Memory is fixed: MLCTL_HASHPIPE_SLOTS x MLCTL_IO_CHUNK.
 */
#ifndef MLCTL_HASHPIPE_H
#define MLCTL_HASHPIPE_H

#include <stddef.h>

#define MLCTL_HASHPIPE_SLOTS 4

struct mlctl_hashpipe;

struct mlctl_hashpipe *mlctl_hashpipe_new(void);
/* The next free slot (waits for the hasher if all are in use); its size in *cap. */
void *mlctl_hashpipe_slot(struct mlctl_hashpipe *p, size_t *cap);
/* Hand the slot returned last by _slot, holding len bytes, to the hasher. */
void mlctl_hashpipe_push(struct mlctl_hashpipe *p, size_t len);
/* Wait for the hasher; 64 hex digits and a NUL into hex. Only once. */
void mlctl_hashpipe_finish(struct mlctl_hashpipe *p, char hex[65]);
/* Stop the thread (finishing if needed) and free; accepts NULL. */
void mlctl_hashpipe_free(struct mlctl_hashpipe *p);

#endif
