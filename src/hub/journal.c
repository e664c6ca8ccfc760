#include "config.h"
#include "hub/journal.h"

#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAGIC "ALLEYJNL"
#define HEADER_SIZE 20          /* magic, version, salt, crc */
/* Version 1 stored 8-byte sequence numbers, version 2 stores 32 bytes (a
 * mirror keeps its upstream's numbers, 56 digits for Amazon Kinesis).
 * Segments of both are read; new ones are written in version 2. */
#define JOURNAL_VERSION 2
#define FRAME_SIZE 8            /* len, crc */

/* Offsets in a framed record: the fields after the sequence number move
 * with its width. */
#define AT_LEN 0
#define AT_CRC 4
#define AT_UID 8
#define AT_SHARD 16
#define AT_SEQ 20

struct layout {
	size_t seq_bytes;
	size_t at_arrival, at_key_len, at_data_len, at_key;
	size_t fixed;           /* stream_uid, shard, seq, arrival_ms, key_len, data_len */
};

#define LAYOUT(seq) { seq, AT_SEQ + (seq), AT_SEQ + (seq) + 8, AT_SEQ + (seq) + 10, \
		      AT_SEQ + (seq) + 14, AT_SEQ + (seq) + 14 - FRAME_SIZE }

/* By version; the pending records are always of the newest. */
static const struct layout layouts[JOURNAL_VERSION + 1] = {
	[1] = LAYOUT(8),
	[2] = LAYOUT(SEQNO_BYTES),
};
static const struct layout *const newest_layout = &layouts[JOURNAL_VERSION];

#define RECORD_MAX(l) ((l)->fixed + JOURNAL_KEY_MAX + JOURNAL_DATA_MAX)

#define SEGMENT_PREFIX "records-"
#define SEGMENT_SUFFIX ".log"
#define SEGMENT_DIGITS 12
#define SEGMENT_NUMBER_MAX 999999999999ull
#define SEGMENT_NAME_MAX 32

#define META_FILE "meta.json"
#define META_TEMP "meta.json.tmp"
#define LOCK_FILE "lock"

#define READ_CHUNK (1024 * 1024)
#define PENDING_MIN (64 * 1024)
#define PENDING_KEEP (8 * 1024 * 1024)  /* a larger batch buffer is freed after a sync */

struct segment {
	uint64_t number;
	uint64_t size;          /* bytes on disk */
	int64_t newest_ms;      /* newest arrival; INT64_MIN when it holds no record */
	uint32_t salt;
	uint32_t version;       /* of its header: how its records are laid out */
	bool known;             /* newest_ms is known: replayed, or written here */
	bool bad;               /* bad header: never read, written or expired */
	bool sealed;            /* a write failed in it: never appended to again */
};

struct journal {
	char *dir;
	int dirfd;
	int lockfd;
	int cur_fd;             /* the last segment, open for appends; -1 when none */
	uint64_t limit;
	uint64_t next_number;
	struct segment *segs;   /* in number order: append order */
	size_t nsegs, segs_cap;
	unsigned char *pending; /* framed records not yet written; CRCs filled by sync */
	size_t pending_len, pending_cap;
	struct journal_stats stats;
};

/* ------------------------------------------------------------------ */
/* CRC32C, slicing by eight                                            */
/* ------------------------------------------------------------------ */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (int t = 1; t < 8; t++)
		for (int i = 0; i < 256; i++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t journal_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* ------------------------------------------------------------------ */
/* Little-endian fields                                                */
/* ------------------------------------------------------------------ */

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The CRC of a framed record: its length field, then everything after the
 * CRC field, seeded with the segment's salt. */
static uint32_t record_crc(uint32_t salt, const unsigned char *rec)
{
	uint32_t crc = journal_crc32c(salt, rec + AT_LEN, 4);

	return journal_crc32c(crc, rec + FRAME_SIZE, get32(rec + AT_LEN));
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Reads up to len bytes at off; fewer only at the end of the file. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int sync_file(int fd)
{
	while (fdatasync(fd) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int sync_dir(int fd)
{
	while (fsync(fd) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Makes the new entry of a directory we created durable: best effort. */
static void sync_parent(const char *path)
{
	char *copy = strdup(path);
	char *slash;
	int fd;

	if (copy == NULL)
		return;
	slash = strrchr(copy, '/');
	if (slash == NULL)
		strcpy(copy, ".");
	else if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		sync_dir(fd);
		close(fd);
	}
	free(copy);
}

/* mkdir -p. */
static int make_dirs(const char *path)
{
	char *copy;

	if (path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	copy = strdup(path);
	if (copy == NULL)
		return -1;
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0777) == 0) {
			sync_parent(copy);
		} else if (errno != EEXIST) {
			int e = errno;
			free(copy);
			errno = e;
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return 0;
}

static void segment_name(char buf[SEGMENT_NAME_MAX], uint64_t number)
{
	snprintf(buf, SEGMENT_NAME_MAX, SEGMENT_PREFIX "%012" PRIu64 SEGMENT_SUFFIX, number);
}

static bool parse_segment_name(const char *name, uint64_t *number)
{
	size_t prefix = strlen(SEGMENT_PREFIX);
	uint64_t n = 0;

	if (strlen(name) != prefix + SEGMENT_DIGITS + strlen(SEGMENT_SUFFIX) ||
	    strncmp(name, SEGMENT_PREFIX, prefix) != 0 ||
	    strcmp(name + prefix + SEGMENT_DIGITS, SEGMENT_SUFFIX) != 0)
		return false;
	for (size_t i = prefix; i < prefix + SEGMENT_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	*number = n;
	return true;
}

/* A salt that differs between segments and between runs; it need not be
 * secret. */
static uint32_t make_salt(uint64_t number)
{
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 40 ^ number * 0x9e3779b97f4a7c15ull;
	/* splitmix64's finaliser */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)(x ^ (x >> 32));
}

/* ------------------------------------------------------------------ */
/* Segments                                                            */
/* ------------------------------------------------------------------ */

static struct segment *segment_push(struct journal *j)
{
	if (j->nsegs == j->segs_cap) {
		size_t cap = j->segs_cap ? j->segs_cap * 2 : 16;
		struct segment *segs = realloc(j->segs, cap * sizeof(*segs));

		if (segs == NULL)
			return NULL;
		j->segs = segs;
		j->segs_cap = cap;
	}
	memset(&j->segs[j->nsegs], 0, sizeof(j->segs[0]));
	return &j->segs[j->nsegs++];
}

static struct segment *current(struct journal *j)
{
	return j->cur_fd >= 0 ? &j->segs[j->nsegs - 1] : NULL;
}

/* Creates the next segment and makes it the current one. The header is
 * durable, and so is the file's name, before any record goes in. */
static int segment_create(struct journal *j)
{
	char name[SEGMENT_NAME_MAX];
	unsigned char h[HEADER_SIZE];
	struct segment *s;
	uint64_t number;
	uint32_t salt;
	int fd, e;

	if (j->nsegs == j->segs_cap) {
		/* Grow first, so a file is never created that we cannot track. */
		if (segment_push(j) == NULL)
			return -1;
		j->nsegs--;
	}
	if (j->next_number > SEGMENT_NUMBER_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	/* A number is used once, even when creating its file fails. */
	number = j->next_number++;
	salt = make_salt(number);
	segment_name(name, number);
	memcpy(h, HEADER_MAGIC, 8);
	put32(h + 8, JOURNAL_VERSION);
	put32(h + 12, salt);
	put32(h + 16, journal_crc32c(0, h, 16));
	fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (pwrite_full(fd, h, HEADER_SIZE, 0) < 0 || sync_file(fd) < 0 || sync_dir(j->dirfd) < 0) {
		e = errno;
		close(fd);
		unlinkat(j->dirfd, name, 0);
		errno = e;
		return -1;
	}
	s = segment_push(j);
	s->number = number;
	s->size = HEADER_SIZE;
	s->newest_ms = INT64_MIN;
	s->salt = salt;
	s->version = JOURNAL_VERSION;
	s->known = true;
	j->cur_fd = fd;
	return 0;
}

/* Done with the current segment: it is full, or expired. */
static void segment_close(struct journal *j)
{
	if (j->cur_fd >= 0)
		close(j->cur_fd);
	j->cur_fd = -1;
}

/* A write or sync of the current segment failed: cut it back to its last
 * durable record if we can, and never append to it again. Whatever a
 * failed cut leaves behind is a torn tail that replay stops at before it
 * moves on to the next segment. Keeps errno. */
static void segment_abandon(struct journal *j)
{
	struct segment *s = current(j);
	struct stat st;
	int e = errno;

	if (ftruncate(j->cur_fd, (off_t)s->size) == 0)
		sync_file(j->cur_fd);
	else if (fstat(j->cur_fd, &st) == 0)
		s->size = (uint64_t)st.st_size;
	s->sealed = true;
	segment_close(j);
	errno = e;
}

enum header_state {
	HEADER_OK,
	HEADER_TORN,    /* a crash interrupted the segment's creation */
	HEADER_BAD,     /* not a segment header */
	HEADER_NEWER,   /* a version we do not know */
};

/* -1 with errno on an I/O error. */
static int read_header(int fd, uint64_t size, uint32_t *salt, uint32_t *version)
{
	unsigned char h[HEADER_SIZE];
	bool zero = true;
	ssize_t n;

	if (size < HEADER_SIZE)
		return HEADER_TORN;
	n = pread_full(fd, h, HEADER_SIZE, 0);
	if (n < 0)
		return -1;
	if (n < HEADER_SIZE)
		return HEADER_TORN;
	for (int i = 0; i < HEADER_SIZE; i++)
		zero = zero && h[i] == 0;
	if (zero && size == HEADER_SIZE)
		return HEADER_TORN;
	if (memcmp(h, HEADER_MAGIC, 8) != 0 || get32(h + 16) != journal_crc32c(0, h, 16))
		return HEADER_BAD;
	*version = get32(h + 8);
	*salt = get32(h + 12);
	if (*version > JOURNAL_VERSION)
		return HEADER_NEWER;
	return *version == 0 ? HEADER_BAD : HEADER_OK;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Lists the directory's segments by number, oldest first. */
static int list_segments(struct journal *j, uint64_t **out, size_t *count)
{
	uint64_t *numbers = NULL, number;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, e;

	fd = openat(j->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (!parse_segment_name(de->d_name, &number))
			continue;
		if (n == cap) {
			size_t new_cap = cap ? cap * 2 : 64;
			uint64_t *more = realloc(numbers, new_cap * sizeof(*more));
			if (more == NULL)
				goto fail;
			numbers = more;
			cap = new_cap;
		}
		numbers[n++] = number;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (n > 0)
		qsort(numbers, n, sizeof(*numbers), compare_u64);
	*out = numbers;
	*count = n;
	return 0;
fail:
	e = errno;
	closedir(d);
	free(numbers);
	errno = e;
	return -1;
}

/* Finds the segments and checks their headers. */
static int scan(struct journal *j, char *err, size_t errlen)
{
	char name[SEGMENT_NAME_MAX];
	uint64_t *numbers;
	size_t count;
	int rc = -1;

	if (list_segments(j, &numbers, &count) < 0) {
		set_err(err, errlen, "cannot read %s: %s", j->dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		uint32_t salt = 0, version = 0;
		struct segment *s;
		struct stat st;
		int state, fd;

		segment_name(name, numbers[i]);
		if (numbers[i] >= j->next_number)
			j->next_number = numbers[i] + 1;
		fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			set_err(err, errlen, "cannot open %s/%s: %s", j->dir, name, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		state = read_header(fd, (uint64_t)st.st_size, &salt, &version);
		close(fd);
		if (state < 0) {
			set_err(err, errlen, "cannot read %s/%s: %s", j->dir, name, strerror(errno));
			goto out;
		}
		if (state == HEADER_NEWER) {
			set_err(err, errlen,
				"%s/%s was written by a newer alleycat (journal version %" PRIu32 ")",
				j->dir, name, version);
			goto out;
		}
		if (state == HEADER_TORN) {
			/* Records go in only once the header is durable: this
			 * one never held any. */
			log_warn("journal: %s/%s: removing a segment whose creation was interrupted",
				 j->dir, name);
			j->stats.corrupt_tails++;
			if (unlinkat(j->dirfd, name, 0) == 0)
				continue;
			log_warn("journal: cannot remove %s/%s: %s", j->dir, name, strerror(errno));
		}
		s = segment_push(j);
		if (s == NULL) {
			set_err(err, errlen, "out of memory");
			goto out;
		}
		s->number = numbers[i];
		s->size = (uint64_t)st.st_size;
		s->newest_ms = INT64_MIN;
		s->salt = salt;
		s->version = version;
		if (state != HEADER_OK) {
			s->bad = true;
			if (state == HEADER_BAD) {
				log_warn("journal: %s/%s has no valid segment header; skipping it",
					 j->dir, name);
				j->stats.bad_segments++;
			}
		}
	}
	rc = 0;
out:
	free(numbers);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Open, close                                                         */
/* ------------------------------------------------------------------ */

struct journal *journal_open(const char *dir, char *err, size_t errlen)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->dir = strdup(dir)) == NULL) {
		set_err(err, errlen, "out of memory");
		free(j);
		return NULL;
	}
	j->dirfd = j->lockfd = j->cur_fd = -1;
	j->limit = JOURNAL_SEGMENT_LIMIT_DEFAULT;
	j->next_number = 1;
	if (make_dirs(dir) < 0) {
		set_err(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		set_err(err, errlen, "cannot open %s: %s", dir, strerror(errno));
		goto fail;
	}
	j->lockfd = openat(j->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->lockfd < 0) {
		set_err(err, errlen, "cannot create %s/%s: %s", dir, LOCK_FILE, strerror(errno));
		goto fail;
	}
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			set_err(err, errlen, "%s is in use by another hub", dir);
		else
			set_err(err, errlen, "cannot lock %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (scan(j, err, errlen) < 0)
		goto fail;
	return j;
fail:
	journal_close(j);
	return NULL;
}

void journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->pending_len > 0)
		log_debug("journal: %s: discarding %zu bytes of records never synced", j->dir,
			  j->pending_len);
	segment_close(j);
	if (j->lockfd >= 0)
		close(j->lockfd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->pending);
	free(j->segs);
	free(j->dir);
	free(j);
}

void journal_set_segment_limit(struct journal *j, uint64_t limit)
{
	j->limit = limit;
}

/* ------------------------------------------------------------------ */
/* Control-plane state                                                 */
/* ------------------------------------------------------------------ */

int journal_save_meta(struct journal *j, const char *text)
{
	int fd, e;

	fd = openat(j->dirfd, META_TEMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (pwrite_full(fd, text, strlen(text), 0) < 0 || sync_file(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(j->dirfd, META_TEMP, j->dirfd, META_FILE) < 0)
		goto fail;
	return sync_dir(j->dirfd);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(j->dirfd, META_TEMP, 0);
	errno = e;
	return -1;
}

char *journal_load_meta(struct journal *j)
{
	size_t len = 0, cap = 4096;
	char *text = NULL;
	struct stat st;
	int fd, e;

	fd = openat(j->dirfd, META_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= cap && (uint64_t)st.st_size < SIZE_MAX / 2)
		cap = (size_t)st.st_size + 1;
	for (;;) {
		ssize_t n;

		if (text == NULL || len + 1 == cap) {
			size_t new_cap = text == NULL ? cap : cap * 2;
			char *more = realloc(text, new_cap);
			if (more == NULL)
				goto fail;
			text = more;
			cap = new_cap;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	return text;
fail:
	e = errno;
	close(fd);
	free(text);
	errno = e;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Appends                                                             */
/* ------------------------------------------------------------------ */

int journal_append(struct journal *j, uint64_t stream_uid, uint32_t shard, seqno_t seq,
		   int64_t arrival_ms, const char *key, size_t key_len, const void *data,
		   size_t data_len)
{
	const struct layout *l = newest_layout;
	size_t size = FRAME_SIZE + l->fixed + key_len + data_len;
	unsigned char *p;

	if (key_len > JOURNAL_KEY_MAX || data_len > JOURNAL_DATA_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (j->pending_cap - j->pending_len < size) {
		size_t cap = j->pending_cap ? j->pending_cap : PENDING_MIN;

		while (cap - j->pending_len < size) {
			if (cap > SIZE_MAX / 2) {
				errno = ENOMEM;
				return -1;
			}
			cap *= 2;
		}
		p = realloc(j->pending, cap);
		if (p == NULL)
			return -1;
		j->pending = p;
		j->pending_cap = cap;
	}
	p = j->pending + j->pending_len;
	put32(p + AT_LEN, (uint32_t)(size - FRAME_SIZE));
	put32(p + AT_CRC, 0);   /* journal_sync knows the segment, hence the salt */
	put64(p + AT_UID, stream_uid);
	put32(p + AT_SHARD, shard);
	seqno_put(p + AT_SEQ, seq);
	put64(p + l->at_arrival, (uint64_t)arrival_ms);
	put16(p + l->at_key_len, (uint16_t)key_len);
	put32(p + l->at_data_len, (uint32_t)data_len);
	if (key_len > 0)
		memcpy(p + l->at_key, key, key_len);
	if (data_len > 0)
		memcpy(p + l->at_key + key_len, data, data_len);
	j->pending_len += size;
	return 0;
}

static void pending_reset(struct journal *j)
{
	j->pending_len = 0;
	if (j->pending_cap > PENDING_KEEP) {
		free(j->pending);
		j->pending = NULL;
		j->pending_cap = 0;
	}
}

int journal_sync(struct journal *j)
{
	char name[SEGMENT_NAME_MAX];
	size_t off = 0;
	int e = 0;

	while (off < j->pending_len) {
		struct segment *s;
		uint64_t size;
		int64_t newest;
		size_t end;

		if (j->cur_fd < 0 && segment_create(j) < 0) {
			e = errno;
			log_warn("journal: cannot create a segment in %s: %s", j->dir, strerror(e));
			goto fail;
		}
		s = current(j);
		size = s->size;
		newest = s->newest_ms;
		/* As many records as fit; a segment takes at least one. */
		for (end = off; end < j->pending_len;) {
			unsigned char *p = j->pending + end;
			size_t rec = FRAME_SIZE + get32(p + AT_LEN);
			int64_t arrival = (int64_t)get64(p + newest_layout->at_arrival);

			if (size > HEADER_SIZE && size + rec > j->limit)
				break;
			put32(p + AT_CRC, record_crc(s->salt, p));
			if (arrival > newest)
				newest = arrival;
			size += rec;
			end += rec;
		}
		if (end > off) {
			if (pwrite_full(j->cur_fd, j->pending + off, end - off, s->size) < 0 ||
			    sync_file(j->cur_fd) < 0) {
				e = errno;
				segment_name(name, s->number);
				log_warn("journal: cannot write %s/%s: %s; later records go to a new segment",
					 j->dir, name, strerror(e));
				segment_abandon(j);
				goto fail;
			}
			s->size = size;
			s->newest_ms = newest;
			off = end;
		}
		if (s->size >= j->limit || end < j->pending_len)
			segment_close(j);
	}
	pending_reset(j);
	return 0;
fail:
	pending_reset(j);
	j->stats.sync_failures++;
	errno = e;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Replay                                                              */
/* ------------------------------------------------------------------ */

struct reader {
	int fd;
	uint64_t limit;         /* bytes of the file to read */
	unsigned char *buf;
	size_t cap;
	uint64_t off;           /* file offset of buf[0] */
	size_t len;             /* bytes in buf */
};

/* Bytes [pos, pos + n) of the file, or NULL: errno 0 when the file ends
 * first, else the I/O error. */
static const unsigned char *reader_get(struct reader *r, uint64_t pos, size_t n)
{
	size_t want;
	ssize_t got;

	if (pos >= r->off && pos - r->off <= r->len && n <= r->len - (pos - r->off))
		return r->buf + (pos - r->off);
	if (pos > r->limit || n > r->limit - pos) {
		errno = 0;
		return NULL;
	}
	want = n > READ_CHUNK ? n : READ_CHUNK;
	if (want > r->limit - pos)
		want = (size_t)(r->limit - pos);
	if (want > r->cap) {
		unsigned char *buf = realloc(r->buf, want);
		if (buf == NULL)
			return NULL;
		r->buf = buf;
		r->cap = want;
	}
	r->len = 0;
	got = pread_full(r->fd, r->buf, want, pos);
	if (got < 0)
		return NULL;
	r->off = pos;
	r->len = (size_t)got;
	if ((size_t)got < n) {
		errno = 0;      /* the file shrank under us */
		return NULL;
	}
	return r->buf;
}

/* Cuts the torn tail off the last segment and, when it has room, makes it
 * the current one again. */
static void reopen_last(struct journal *j, struct segment *s, const char *name, uint64_t file_size)
{
	int fd = openat(j->dirfd, name, O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		log_warn("journal: cannot open %s/%s for writing: %s", j->dir, name, strerror(errno));
		s->sealed = true;
		return;
	}
	if (file_size > s->size) {
		if (ftruncate(fd, (off_t)s->size) < 0 || sync_file(fd) < 0) {
			log_warn("journal: cannot truncate %s/%s: %s; later records go to a new segment",
				 j->dir, name, strerror(errno));
			s->size = file_size;
			s->sealed = true;
			close(fd);
			return;
		}
		j->stats.truncated_bytes += file_size - s->size;
	}
	/* Records of another layout go to a new segment. */
	if (s->size >= j->limit || j->pending_len > 0 || s->version != JOURNAL_VERSION) {
		close(fd);
		return;
	}
	j->cur_fd = fd;
}

static seqno_t record_seq(const struct layout *l, const unsigned char *p)
{
	return l->seq_bytes == SEQNO_BYTES ? seqno_get(p + AT_SEQ) : seqno_from_u64(get64(p + AT_SEQ));
}

static int replay_segment(struct journal *j, size_t idx, struct reader *r, journal_record_fn fn,
			  void *user)
{
	struct segment *s = &j->segs[idx];
	bool last = idx + 1 == j->nsegs;
	bool is_current = last && j->cur_fd >= 0;
	char name[SEGMENT_NAME_MAX];
	uint64_t pos = HEADER_SIZE, file_size;
	int64_t newest = INT64_MIN;
	const char *why = NULL;
	const struct layout *l = &layouts[s->version];
	struct stat st;
	int fd, rc = 0, io_error = 0;

	segment_name(name, s->number);
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = errno;
		log_error("journal: cannot open %s/%s: %s", j->dir, name, strerror(rc));
		if (fd >= 0)
			close(fd);
		errno = rc;
		return -1;
	}
	file_size = (uint64_t)st.st_size;
	r->fd = fd;
	r->limit = is_current ? s->size : file_size;
	r->off = 0;
	r->len = 0;
	while (pos < r->limit) {
		const unsigned char *p = reader_get(r, pos, FRAME_SIZE);
		uint32_t len;
		size_t key_len, data_len;

		if (p == NULL) {
			io_error = errno;
			why = "record cut short";
			break;
		}
		len = get32(p + AT_LEN);
		if (len < l->fixed || len > RECORD_MAX(l)) {
			why = "bad record length";
			break;
		}
		p = reader_get(r, pos, FRAME_SIZE + len);
		if (p == NULL) {
			io_error = errno;
			why = "record cut short";
			break;
		}
		if (get32(p + AT_CRC) != record_crc(s->salt, p)) {
			why = "bad checksum";
			break;
		}
		key_len = get16(p + l->at_key_len);
		data_len = get32(p + l->at_data_len);
		if (key_len > JOURNAL_KEY_MAX || data_len > JOURNAL_DATA_MAX ||
		    l->fixed + key_len + data_len != len) {
			why = "bad record fields";
			break;
		}
		int64_t arrival = (int64_t)get64(p + l->at_arrival);
		if (arrival > newest)
			newest = arrival;
		j->stats.records_replayed++;
		pos += FRAME_SIZE + len;
		rc = fn(user, get64(p + AT_UID), get32(p + AT_SHARD), record_seq(l, p), arrival,
			(const char *)p + l->at_key, key_len, p + l->at_key + key_len, data_len);
		if (rc != 0)
			break;
	}
	if (io_error != 0) {
		log_error("journal: cannot read %s/%s: %s", j->dir, name, strerror(io_error));
		close(fd);
		errno = io_error;
		return -1;
	}
	if (rc != 0) {
		/* Stopped early: what we know of this segment is incomplete. */
		close(fd);
		return rc;
	}
	if (why != NULL) {
		j->stats.corrupt_tails++;
		log_warn("journal: %s/%s: %s at offset %" PRIu64 "; %" PRIu64
			 " bytes after the last good record are %s",
			 j->dir, name, why, pos, r->limit - pos,
			 last && !s->sealed && !is_current ? "cut off" : "skipped");
	}
	/* A killed hub may have written records it never synced: make them
	 * durable before anyone reads them. */
	if (!is_current && sync_file(fd) < 0) {
		rc = errno;
		log_error("journal: cannot sync %s/%s: %s", j->dir, name, strerror(rc));
		close(fd);
		errno = rc;
		return -1;
	}
	close(fd);
	s->newest_ms = newest;
	s->known = true;
	if (is_current)
		return 0;
	if (last && !s->sealed) {
		s->size = pos;
		reopen_last(j, s, name, file_size);
	} else {
		s->size = file_size;
	}
	return 0;
}

int journal_replay(struct journal *j, journal_record_fn fn, void *user)
{
	struct reader r;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	j->stats.records_replayed = 0;
	for (size_t i = 0; i < j->nsegs && rc == 0; i++)
		if (!j->segs[i].bad)
			rc = replay_segment(j, i, &r, fn, user);
	free(r.buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Retention, metrics                                                  */
/* ------------------------------------------------------------------ */

void journal_expire(struct journal *j, int64_t min_arrival_ms)
{
	char name[SEGMENT_NAME_MAX];
	bool removed = false;
	size_t kept = 0;

	for (size_t i = 0; i < j->nsegs; i++) {
		struct segment *s = &j->segs[i];
		bool is_current = i + 1 == j->nsegs && j->cur_fd >= 0;

		/* An empty current segment is where the next records go. */
		if (!s->bad && s->known && s->newest_ms < min_arrival_ms &&
		    !(is_current && s->newest_ms == INT64_MIN)) {
			segment_name(name, s->number);
			if (unlinkat(j->dirfd, name, 0) == 0 || errno == ENOENT) {
				log_debug("journal: %s/%s expired", j->dir, name);
				if (is_current)
					segment_close(j);
				j->stats.expired_segments++;
				removed = true;
				continue;
			}
			log_warn("journal: cannot delete %s/%s: %s", j->dir, name, strerror(errno));
		}
		j->segs[kept++] = *s;
	}
	j->nsegs = kept;
	/* Not needed for safety: a deleted segment that comes back after a
	 * crash only holds records retention drops again. */
	if (removed)
		sync_dir(j->dirfd);
}

uint64_t journal_bytes(const struct journal *j)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < j->nsegs; i++)
		bytes += j->segs[i].size;
	return bytes;
}

void journal_stats(const struct journal *j, struct journal_stats *out)
{
	*out = j->stats;
	out->segments = j->nsegs;
	out->bytes = journal_bytes(j);
}
