#include "config.h"
#include "hub/apirules.h"

#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"

/* AWS stops listing constraint failures at ten. */
#define APIRULES_MAX_FAULTS 10

/* The faults found so far, joined as AWS joins them. */
struct faults {
	struct strbuf text;
	int count;
};

/* ------------------------------------------------------------------ */
/* Pass 1: JSON types, worded as the service's deserializer words them */
/* ------------------------------------------------------------------ */

static const char *container_mismatch(json_t *v)
{
	if (json_is_array(v))
		return "Start of list found where not expected";
	if (json_is_object(v))
		return "Start of structure or map found where not expected.";
	return NULL;
}

static const char *scalar_type_fault(json_t *v, enum apirule_kind kind, char *buf, size_t size)
{
	const char *target = kind == APIRULE_STRING ? "String"
			     : kind == APIRULE_INTEGER ? "Integer" : "Boolean";
	const char *from = json_is_boolean(v) ? "class java.lang.Boolean"
			   : json_is_number(v) ? "class java.math.BigDecimal"
			   : json_is_string(v) ? "class java.lang.String" : NULL;
	const char *container = container_mismatch(v);

	if (container)
		return container;
	if ((kind == APIRULE_STRING && json_is_string(v)) ||
	    (kind == APIRULE_INTEGER && json_is_number(v)) ||
	    (kind == APIRULE_BOOLEAN && json_is_boolean(v)))
		return NULL;
	snprintf(buf, size, "%s can not be converted to an %s", from, target);
	return buf;
}

static const char *type_fault(json_t *v, const struct apirule *r, char *buf, size_t size);

const char *apirules_type_fault(json_t *v, enum apirule_kind kind, char *buf, size_t size)
{
	const struct apirule r = { "", kind, false, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL };

	return type_fault(v, &r, buf, size);
}

static const char *members_type_fault(json_t *obj, const struct apirule *rules, char *buf,
				      size_t size)
{
	const char *fault = NULL;

	for (const struct apirule *r = rules; r->name && fault == NULL; r++)
		fault = type_fault(json_object_get(obj, r->name), r, buf, size);
	return fault;
}

static const char *type_fault(json_t *v, const struct apirule *r, char *buf, size_t size)
{
	const char *fault = NULL;
	const char *key;
	json_t *item;
	size_t i;

	if (v == NULL || json_is_null(v))
		return NULL;
	switch (r->kind) {
	case APIRULE_LIST:
		if (!json_is_array(v))
			return json_is_object(v) ? container_mismatch(v) : "Expected list or null";
		json_array_foreach(v, i, item) {
			if (fault == NULL)
				fault = type_fault(item, r->item, buf, size);
		}
		return fault;
	case APIRULE_MAP:
		if (!json_is_object(v))
			return json_is_array(v) ? container_mismatch(v) : "Expected map or null";
		json_object_foreach(v, key, item) {
			if (fault == NULL)
				fault = type_fault(item, r->item, buf, size);
		}
		return fault;
	case APIRULE_STRUCTURE:
		if (!json_is_object(v))
			return json_is_array(v) ? container_mismatch(v) : "Expected null";
		return members_type_fault(v, r->fields, buf, size);
	default:
		return scalar_type_fault(v, r->kind, buf, size);
	}
}

/* ------------------------------------------------------------------ */
/* Pass 2: constraints, every one, in the model's order                */
/* ------------------------------------------------------------------ */

/* An integer member's value, floored as AWS floors it; a number beyond
 * long long (1e300) is held at its bound, which every limit then catches. */
static long long integer_of(json_t *v)
{
	double d;

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	d = floor(json_number_value(v));
	if (d >= 9.2e18)
		return LLONG_MAX;
	if (d <= -9.2e18)
		return LLONG_MIN;
	return (long long)d;
}

/* Length in characters, as AWS counts string lengths. */
static long long char_length(const char *s, size_t bytes)
{
	long long n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static bool matches(const char *regex, const char *value)
{
	char anchored[256];
	regex_t re;
	bool ok;

	snprintf(anchored, sizeof(anchored), "^(%s)$", regex);
	if (regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, value, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static bool in_enum(const char *const *values, const char *value)
{
	for (; *values; values++)
		if (strcmp(*values, value) == 0)
			return true;
	return false;
}

static void enum_text(const char *const *values, struct strbuf *out)
{
	strbuf_puts(out, "Member must satisfy enum value set: [");
	for (const char *const *v = values; *v; v++)
		strbuf_printf(out, "%s%s", v == values ? "" : ", ", *v);
	strbuf_puts(out, "]");
}

/* The value as AWS quotes it: strings as they are, lists as [a, b], maps
 * as {k=v}. */
static void value_text(json_t *v, struct strbuf *out)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_string(v)) {
		strbuf_append(out, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		strbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_number(v)) {
		strbuf_printf(out, "%.0f", floor(json_number_value(v)));
	} else if (json_is_boolean(v)) {
		strbuf_puts(out, json_is_true(v) ? "true" : "false");
	} else if (json_is_array(v)) {
		strbuf_puts(out, "[");
		json_array_foreach(v, i, item) {
			strbuf_puts(out, i ? ", " : "");
			value_text(item, out);
		}
		strbuf_puts(out, "]");
	} else if (json_is_object(v)) {
		i = 0;
		strbuf_puts(out, "{");
		json_object_foreach(v, key, item) {
			strbuf_printf(out, "%s%s=", i++ ? ", " : "", key);
			value_text(item, out);
		}
		strbuf_puts(out, "}");
	}
}

static void add_fault(struct faults *f, json_t *v, const char *path, const char *constraint)
{
	struct strbuf value;

	if (f->count >= APIRULES_MAX_FAULTS)
		return;
	strbuf_puts(&f->text, f->count++ ? "; " : "");
	if (v == NULL || json_is_null(v)) {
		strbuf_printf(&f->text, "Value null at '%s' failed to satisfy constraint: %s", path,
			      constraint);
		return;
	}
	strbuf_init(&value);
	value_text(v, &value);
	/* A quoted value is cut as AWS cuts long ones, so a huge request
	 * cannot make a huge answer. */
	strbuf_printf(&f->text, "Value '%.*s' at '%s' failed to satisfy constraint: %s",
		      value.len > 256 ? 256 : (int)value.len, value.data ? value.data : "", path,
		      constraint);
	strbuf_free(&value);
}

static long long size_of(json_t *v)
{
	if (json_is_string(v))
		return char_length(json_string_value(v), json_string_length(v));
	if (json_is_array(v))
		return (long long)json_array_size(v);
	return (long long)json_object_size(v);
}

/* The constraints a scalar or a collection's size breaks, each worded
 * "Member must ...", appended to out as a comma-separated list. */
static int scalar_faults(json_t *v, const struct apirule *r, struct strbuf *out,
			 const char *sep)
{
	int n = 0;
	long long size = r->kind == APIRULE_INTEGER ? 0 : size_of(v);
	long long value = r->kind == APIRULE_INTEGER ? integer_of(v) : 0;

#define FAULT(...) (strbuf_puts(out, n++ ? sep : ""), strbuf_printf(out, __VA_ARGS__))
	if (r->kind == APIRULE_INTEGER) {
		if (r->min != APIRULE_NO_LIMIT && value < r->min)
			FAULT("Member must have value greater than or equal to %lld", r->min);
		if (r->max != APIRULE_NO_LIMIT && value > r->max)
			FAULT("Member must have value less than or equal to %lld", r->max);
		return n;
	}
	if (r->max != APIRULE_NO_LIMIT && size > r->max)
		FAULT("Member must have length less than or equal to %lld", r->max);
	if (r->min != APIRULE_NO_LIMIT && size < r->min)
		FAULT("Member must have length greater than or equal to %lld", r->min);
	if (r->kind == APIRULE_STRING && r->regex && !matches(r->regex, json_string_value(v)))
		FAULT("Member must satisfy regular expression pattern: %s", r->pattern);
	if (r->kind == APIRULE_STRING && r->values && !in_enum(r->values, json_string_value(v))) {
		strbuf_puts(out, n++ ? sep : "");
		enum_text(r->values, out);
	}
#undef FAULT
	return n;
}

/* Whether any item (or map key) of a collection breaks its rule. */
static bool any_item_faults(json_t *v, const struct apirule *rule, bool keys)
{
	struct strbuf scratch;
	const char *key;
	json_t *item;
	size_t i;
	int n = 0;

	strbuf_init(&scratch);
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			n += scalar_faults(item, rule, &scratch, ", ");
	} else {
		json_object_foreach(v, key, item) {
			json_t *k = keys ? json_string(key) : NULL;
			n += scalar_faults(keys ? k : item, rule, &scratch, ", ");
			json_decref(k);
		}
	}
	strbuf_free(&scratch);
	return n > 0;
}

/* AWS words a bad item by the item rule's constraints, all of them. */
static void item_fault(struct faults *f, json_t *v, const char *path, const struct apirule *rule,
		       const char *lead)
{
	struct strbuf text;

	strbuf_init(&text);
	strbuf_printf(&text, "%s must satisfy constraint: [", lead);
	/* Every constraint of the rule, as if a value broke them all. */
	if (rule->max != APIRULE_NO_LIMIT)
		strbuf_printf(&text, "Member must have length less than or equal to %lld, ",
			      rule->max);
	if (rule->min != APIRULE_NO_LIMIT)
		strbuf_printf(&text, "Member must have length greater than or equal to %lld, ",
			      rule->min);
	if (rule->values)
		enum_text(rule->values, &text);
	else if (rule->pattern)
		strbuf_printf(&text, "Member must satisfy regular expression pattern: %s",
			      rule->pattern);
	while (text.len > 2 && text.data[text.len - 2] == ',')
		text.len -= 2;
	strbuf_puts(&text, "]");
	add_fault(f, v, path, text.data ? text.data : "");
	strbuf_free(&text);
}

static void check_members(json_t *obj, const struct apirule *rules, const char *parent,
			  struct faults *f);

static void check_member(json_t *v, const struct apirule *r, const char *path, struct faults *f)
{
	struct strbuf text;

	if (v == NULL || json_is_null(v)) {
		if (r->required)
			add_fault(f, NULL, path, "Member must not be null");
		return;
	}
	strbuf_init(&text);
	if (r->kind != APIRULE_BOOLEAN && r->kind != APIRULE_STRUCTURE &&
	    scalar_faults(v, r, &text, "\n") > 0) {
		/* One fault per broken constraint, as AWS lists them. */
		for (char *line = text.data, *next; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			add_fault(f, v, path, line);
		}
	}
	strbuf_free(&text);
	if (r->kind == APIRULE_LIST && any_item_faults(v, r->item, false))
		item_fault(f, v, path, r->item, "Member");
	if (r->kind == APIRULE_MAP && any_item_faults(v, r->key, true))
		item_fault(f, v, path, r->key, "Map keys");
	if (r->kind == APIRULE_MAP && any_item_faults(v, r->item, false))
		item_fault(f, v, path, r->item, "Map value");
	if (r->kind == APIRULE_STRUCTURE)
		check_members(v, r->fields, path, f);
}

static void check_members(json_t *obj, const struct apirule *rules, const char *parent,
			  struct faults *f)
{
	char path[160];

	for (const struct apirule *r = rules; r->name; r++) {
		/* AWS names members in lowerCamel case, nested ones by path. */
		snprintf(path, sizeof(path), "%s%s%c%s", parent ? parent : "", parent ? "." : "",
			 r->name[0] + ('a' - 'A') * (r->name[0] >= 'A' && r->name[0] <= 'Z'),
			 r->name + 1);
		check_member(json_object_get(obj, r->name), r, path, f);
	}
}

int apirules_check(json_t *req, const struct apirule *rules, struct apirule_error *err)
{
	struct faults f = { .count = 0 };
	const char *fault;
	char buf[128];

	fault = members_type_fault(req, rules, buf, sizeof(buf));
	if (fault) {
		err->type = "SerializationException";
		snprintf(err->message, sizeof(err->message), "%s", fault);
		return -1;
	}
	strbuf_init(&f.text);
	check_members(req, rules, NULL, &f);
	if (f.count > 0) {
		err->type = "ValidationException";
		snprintf(err->message, sizeof(err->message), "%d validation error%s detected: %s",
			 f.count, f.count > 1 ? "s" : "", f.text.data ? f.text.data : "");
	}
	strbuf_free(&f.text);
	return f.count > 0 ? -1 : 0;
}

long long apirules_integer(json_t *req, const char *name, long long dflt)
{
	json_t *v = json_object_get(req, name);

	return json_is_number(v) ? integer_of(v) : dflt;
}
