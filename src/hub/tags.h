/* A resource's tags: keys and values, kept in key order so that a listing
 * can resume after a key. Small (AWS allows 50 a resource): a sorted array. */
#ifndef ALLEYCAT_TAGS_H
#define ALLEYCAT_TAGS_H

#include <jansson.h>
#include <stddef.h>

#define TAGS_MAX 50                     /* per resource, as in Kinesis */
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256

struct tag {
	char *key, *value;              /* owned */
};

struct tagset {
	struct tag *items;              /* in strcmp order of key */
	size_t count;
};

void tagset_free(struct tagset *t);

/* The value of key (borrowed), or NULL. */
const char *tagset_get(const struct tagset *t, const char *key);

/* Sets key to value, replacing any value it had. 0, or -1 out of memory
 * (the set is then unchanged). */
int tagset_set(struct tagset *t, const char *key, const char *value);

void tagset_remove(struct tagset *t, const char *key);

/* How many tags the set would hold with the keys of tags (a JSON object)
 * added: the limit check before a change. */
size_t tagset_count_with(const struct tagset *t, json_t *tags);

/* The index of the first tag after key (all when key is NULL). */
size_t tagset_after(const struct tagset *t, const char *key);

/* As a JSON object {"key":"value"} (new reference), for the saved state;
 * and back. tagset_load returns -1 on a malformed object or out of memory. */
json_t *tagset_json(const struct tagset *t);
int tagset_load(struct tagset *t, json_t *obj);

#endif
