/*
 * hashpipe.c - a one-producer, one-consumer ring of buffers with a hashing
 * thread behind it. The thread starts only when a second slot is pushed:
 * a file of one chunk or less, the common case in a project of many small
 * files, is hashed on the caller's thread, and slots are allocated as used.
 */
#include "hashpipe.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"
#include "banned.h"

struct mlctl_hashpipe {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *slots[MLCTL_HASHPIPE_SLOTS];
	size_t lens[MLCTL_HASHPIPE_SLOTS];
	size_t head, tail, pending;
	int started, done, finished;
	struct mlctl_sha256 *sha;
};

/*
 * The chunk buffers of a freed pipe are kept for the next: a package of
 * 100,000 small files then allocates them once, not 100,000 times (a 1 MiB
 * allocation is an mmap, and under AddressSanitizer a fill as well).
 */
static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static char *spare[MLCTL_HASHPIPE_SLOTS];
static size_t nspare;

static char *chunk_new(void)
{
	char *c = NULL;

	pthread_mutex_lock(&spare_mu);
	if (nspare)
		c = spare[--nspare];
	pthread_mutex_unlock(&spare_mu);
	return c ? c : mlctl_malloc(MLCTL_IO_CHUNK);
}

static void chunk_free(char *c)
{
	pthread_mutex_lock(&spare_mu);
	if (nspare < MLCTL_HASHPIPE_SLOTS) {
		spare[nspare++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&spare_mu);
	free(c);
}

static void *hasher(void *arg)
{
	struct mlctl_hashpipe *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t i;

		while (p->pending == 0 && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->pending == 0 && p->done)
			break;
		i = p->tail;
		pthread_mutex_unlock(&p->mu);
		mlctl_sha256_update(p->sha, p->slots[i], p->lens[i]);
		pthread_mutex_lock(&p->mu);
		p->tail = (p->tail + 1) % MLCTL_HASHPIPE_SLOTS;
		p->pending--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct mlctl_hashpipe *mlctl_hashpipe_new(void)
{
	struct mlctl_hashpipe *p = mlctl_calloc(1, sizeof(*p));

	p->slots[0] = chunk_new();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->sha = mlctl_sha256_new();
	return p;
}

static void start(struct mlctl_hashpipe *p)
{
	if (pthread_create(&p->thread, NULL, hasher, p) != 0) {
		fputs("mlctl: cannot start the hashing thread\n", stderr);
		abort();
	}
	p->started = 1;
}

void *mlctl_hashpipe_slot(struct mlctl_hashpipe *p, size_t *cap)
{
	void *s;

	pthread_mutex_lock(&p->mu);
	while (p->pending == MLCTL_HASHPIPE_SLOTS)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->slots[p->head])
		p->slots[p->head] = chunk_new();
	s = p->slots[p->head];
	pthread_mutex_unlock(&p->mu);
	*cap = MLCTL_IO_CHUNK;
	return s;
}

void mlctl_hashpipe_push(struct mlctl_hashpipe *p, size_t len)
{
	if (!p->started && p->pending > 0)
		start(p);
	pthread_mutex_lock(&p->mu);
	p->lens[p->head] = len;
	p->head = (p->head + 1) % MLCTL_HASHPIPE_SLOTS;
	p->pending++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void stop(struct mlctl_hashpipe *p)
{
	if (p->finished)
		return;
	if (!p->started) {
		/* one slot at most, never handed to a thread: hash it here */
		if (p->pending)
			mlctl_sha256_update(p->sha, p->slots[p->tail], p->lens[p->tail]);
		p->pending = 0;
		p->finished = 1;
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->finished = 1;
}

void mlctl_hashpipe_finish(struct mlctl_hashpipe *p, char hex[65])
{
	stop(p);
	mlctl_sha256_final_hex(p->sha, hex);
}

void mlctl_hashpipe_free(struct mlctl_hashpipe *p)
{
	size_t i;

	if (!p)
		return;
	stop(p);
	for (i = 0; i < MLCTL_HASHPIPE_SLOTS; i++)
		if (p->slots[i])
			chunk_free(p->slots[i]);
	mlctl_sha256_free(p->sha);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
