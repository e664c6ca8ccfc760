#include "config.h"
#include "hub/tags.h"

#include <stdlib.h>
#include <string.h>

void tagset_free(struct tagset *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->items[i].key);
		free(t->items[i].value);
	}
	free(t->items);
	t->items = NULL;
	t->count = 0;
}

/* Where key is, or would go: a binary search over the sorted keys. */
static size_t position(const struct tagset *t, const char *key, int *found)
{
	size_t lo = 0, hi = t->count;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(t->items[mid].key, key);
		if (cmp == 0) {
			*found = 1;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *tagset_get(const struct tagset *t, const char *key)
{
	int found;
	size_t i = position(t, key, &found);

	return found ? t->items[i].value : NULL;
}

static int replace_value(struct tag *tag, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(tag->value);
	tag->value = copy;
	return 0;
}

int tagset_set(struct tagset *t, const char *key, const char *value)
{
	int found;
	size_t i = position(t, key, &found);
	struct tag *grown;
	char *k, *v;

	if (found)
		return replace_value(&t->items[i], value);
	grown = realloc(t->items, (t->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	t->items = grown;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -1;
	}
	memmove(&t->items[i + 1], &t->items[i], (t->count - i) * sizeof(*grown));
	t->items[i].key = k;
	t->items[i].value = v;
	t->count++;
	return 0;
}

void tagset_remove(struct tagset *t, const char *key)
{
	int found;
	size_t i = position(t, key, &found);

	if (!found)
		return;
	free(t->items[i].key);
	free(t->items[i].value);
	memmove(&t->items[i], &t->items[i + 1], (t->count - i - 1) * sizeof(*t->items));
	t->count--;
}

size_t tagset_count_with(const struct tagset *t, json_t *tags)
{
	size_t n = t->count;
	const char *key;
	json_t *v;

	json_object_foreach(tags, key, v) {
		if (tagset_get(t, key) == NULL)
			n++;
	}
	return n;
}

size_t tagset_after(const struct tagset *t, const char *key)
{
	int found;
	size_t i;

	if (key == NULL)
		return 0;
	i = position(t, key, &found);
	return found ? i + 1 : i;
}

json_t *tagset_json(const struct tagset *t)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj && i < t->count; i++)
		json_object_set_new(obj, t->items[i].key, json_string(t->items[i].value));
	return obj;
}

int tagset_load(struct tagset *t, json_t *obj)
{
	const char *key;
	json_t *v;

	if (obj == NULL)
		return 0;
	if (!json_is_object(obj))
		return -1;
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v) || tagset_set(t, key, json_string_value(v)) < 0)
			return -1;
	}
	return 0;
}
