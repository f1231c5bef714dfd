/*
 * mk2ds.plugins.reader._speedups: the compiled fast path of the Mark II reader (optional).
 *
 * convert_block() takes a block of whole lines (bytes) and converts every *common, well-formed* line:
 * header "MM/DD/YYYY HH:MM:SS.mmm[ +HHMM]", then " key=value" fields separated by exactly one space, values
 * bare or quoted ("" stands for one "), no repeated or reserved key, canonical decimals in integer fields.
 * Every other line (malformed, impossible date, repeated key, not-an-integer, extra spaces, too long,
 * invalid in the encoding, more than MAX_FIELDS fields) is returned as (index, start, end) so the caller
 * sends it through the pure-Python reference path: findings and rejects are the reference's by construction.
 * Being conservative is always safe; accepting a line differently from the reference is a bug (the tests
 * compare both paths on random and hostile input).
 *
 * Every read is bounded by the block's length: the scanners compare a position against the line's end
 * before reading, and use memchr with explicit lengths (the ASan/UBSan fuzz run checks it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Eight bytes at a time (a word read with memcpy, never past the end): does the word hold a byte with the
 * high bit set, or a byte that a JSON string must escape (below 0x20, '"', '\\')? */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
#define HAS_ZERO(x) (((x) - ONES) & ~(x) & HIGHS)
#define HAS_LESS(x, n) (((x) - ONES * (n)) & ~(x) & HIGHS)
#define JSON_SPECIAL(x) (HAS_LESS(x, 0x20) | HAS_ZERO((x) ^ (ONES * 0x22)) | HAS_ZERO((x) ^ (ONES * 0x5C)))

#define MAX_FIELDS 64  /* more goes the reference path (the repeated-key check is quadratic) */
#define KEY_SLOTS 512  /* a power of two, more than twice MAX_CACHED_KEYS */
#define MAX_CACHED_KEYS 200
#define MAX_INTEGER_DIGITS 4300
#define REQUIRED_SN 1
#define REQUIRED_EVT 2
#define REQUIRED_SUB_EVT 4
#define REQUIRED_ALL 7

typedef struct {
    const char *key;
    Py_ssize_t len;
    PyObject *name;    /* the key as str */
    int integer;       /* an integer field */
    int reserved;      /* time, time_offset(_source), or _file/_line with provenance */
    int required;      /* REQUIRED_SN, _EVT or _SUB_EVT: a key every event record has, with a value */
    Py_ssize_t stamp;  /* the last line that used the key: a second use in that line is a repeated key */
} KeySlot;

typedef struct {
    const char *key;
    Py_ssize_t key_len;
    const char *value;
    Py_ssize_t value_len;
    int escaped; /* a quoted value that contains "" */
    KeySlot *slot;
} Span;

typedef struct {
    /* options */
    int json;
    int ascii_only;
    int provenance;
    Py_ssize_t max_line;
    PyObject *zone_less;       /* dict: the keys a zone-less record gets after time, in order */
    const char *zone_less_json; /* the same as JSON members, each with its leading comma */
    Py_ssize_t zone_less_json_len;
    PyObject *integer_fields;
    PyObject *name;
    const char *name_json;
    Py_ssize_t name_json_len;
    /* scratch */
    KeySlot keys[KEY_SLOTS];
    int cached;
    Py_ssize_t stamp;
    char *buffer;
    Py_ssize_t capacity;
    Py_ssize_t used;
    Py_ssize_t zone_less_records; /* records converted here from zone-less lines */
} Context;

static PyObject *TIME_KEY, *FILE_KEY, *LINE_KEY;

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_key_start(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_key_char(unsigned char c) { return is_key_start(c) || is_digit(c); }
static int two(const unsigned char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
    return days[month - 1];
}

/* The header; writes the record's time into `time` (at most 40 bytes) and returns the index after the header
 * (at a space), or -1 for anything unusual. */
static Py_ssize_t parse_header(const unsigned char *p, Py_ssize_t n, char *time, Py_ssize_t *time_len, int *zoned) {
    static const char template[] = "00/00/0000 00:00:00.000";
    Py_ssize_t i, pos;
    int month, day, year;
    if (n < 25) return -1; /* a header, a space and at least one byte */
    for (i = 0; i < 23; i++) {
        if (template[i] == '0' ? !is_digit(p[i]) : p[i] != (unsigned char)template[i]) return -1;
    }
    if (p[23] != ' ') return -1;
    if (two(p + 11) > 23 || two(p + 14) > 59 || two(p + 17) > 59) return -1;
    month = two(p);
    day = two(p + 3);
    year = two(p + 6) * 100 + two(p + 8);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return -1;
    memcpy(time, p + 6, 4);
    time[4] = '-';
    memcpy(time + 5, p, 2);
    time[7] = '-';
    memcpy(time + 8, p + 3, 2);
    time[10] = 'T';
    memcpy(time + 11, p + 11, 12);
    pos = 23;
    if (p[24] == '+' || p[24] == '-') {
        if (n < 30 || !is_digit(p[25]) || !is_digit(p[26]) || !is_digit(p[27]) || !is_digit(p[28]) || p[29] != ' ') return -1;
        if (two(p + 25) > 23 || two(p + 27) > 59) return -1;
        time[23] = (char)p[24];
        memcpy(time + 24, p + 25, 2);
        time[26] = ':';
        memcpy(time + 27, p + 27, 2);
        *time_len = 29;
        *zoned = 1;
        pos = 29;
    } else {
        *time_len = 23; /* the local time; the offset and its source follow as their own keys */
        *zoned = 0;
    }
    return pos;
}

/* The fields after the header; returns their number, or -1 for anything unusual. */
static int parse_fields(const unsigned char *p, Py_ssize_t n, Py_ssize_t pos, Span *spans) {
    int count = 0;
    while (pos < n) {
        Span *span;
        Py_ssize_t start;
        if (p[pos] != ' ' || count == MAX_FIELDS) return -1;
        pos++;
        if (pos >= n || !is_key_start(p[pos])) return -1; /* trailing space, extra space, bad key */
        span = &spans[count++];
        start = pos;
        while (pos < n && is_key_char(p[pos])) pos++;
        if (pos >= n || p[pos] != '=') return -1;
        span->key = (const char *)p + start;
        span->key_len = pos - start;
        pos++;
        span->escaped = 0;
        if (pos < n && p[pos] == '"') {
            Py_ssize_t search = pos + 1;
            const unsigned char *close;
            for (;;) {
                close = search < n ? memchr(p + search, '"', (size_t)(n - search)) : NULL;
                if (close == NULL) return -1;
                if (close + 1 < p + n && close[1] == '"') {
                    span->escaped = 1;
                    search = (close - p) + 2;
                    continue;
                }
                break;
            }
            span->value = (const char *)p + pos + 1;
            span->value_len = (close - p) - pos - 1;
            pos = (close - p) + 1;
            if (pos < n && p[pos] != ' ') return -1;
        } else {
            const unsigned char *space = pos < n ? memchr(p + pos, ' ', (size_t)(n - pos)) : NULL;
            Py_ssize_t end = space ? space - p : n;
            span->value = (const char *)p + pos;
            span->value_len = end - pos;
            pos = end;
        }
    }
    return count;
}

static Py_ssize_t unescape(const Span *span, char *target) {
    Py_ssize_t i, out = 0;
    for (i = 0; i < span->value_len; i++) {
        target[out++] = span->value[i];
        if (span->value[i] == '"') i++; /* "" stands for one " (the parser checked the pair) */
    }
    return out;
}

/* 1: a canonical decimal integer (0 | -?[1-9][0-9]*) of at most MAX_INTEGER_DIGITS digits. */
static int canonical_integer(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    if (n > 0 && s[0] == '-') i = 1;
    if (i >= n || n - i > MAX_INTEGER_DIGITS) return 0;
    if (s[i] == '0') return n == 1;
    for (; i < n; i++) {
        if (!is_digit((unsigned char)s[i])) return 0;
    }
    return 1;
}

static int no_value_marker(const Span *span) {
    return span->value_len == 0 || (span->value_len == 1 && span->value[0] == '-');
}

static int required_key(const char *key, Py_ssize_t len) {
    if (len == 2 && memcmp(key, "sn", 2) == 0) return REQUIRED_SN;
    if (len == 3 && memcmp(key, "evt", 3) == 0) return REQUIRED_EVT;
    if (len == 6 && memcmp(key, "subEvt", 6) == 0) return REQUIRED_SUB_EVT;
    return 0;
}

static int reserved_key(const char *key, Py_ssize_t len, int provenance) {
    if (len == 4 && memcmp(key, "time", 4) == 0) return 1;
    /* reserved on zone-less lines only: the reference path judges both kinds of line */
    if (len == 11 && memcmp(key, "time_offset", 11) == 0) return 1;
    if (len == 18 && memcmp(key, "time_offset_source", 18) == 0) return 1;
    return provenance && len == 5 && (memcmp(key, "_file", 5) == 0 || memcmp(key, "_line", 5) == 0);
}

/* The cached slot of a key: NULL with an exception on error, NULL without one when the table is full. */
static KeySlot *key_slot(Context *ctx, const char *key, Py_ssize_t len) {
    unsigned long hash = 2166136261UL;
    Py_ssize_t i;
    int probe;
    KeySlot *slot = NULL;
    for (i = 0; i < len; i++) hash = (hash ^ (unsigned char)key[i]) * 16777619UL;
    for (probe = 0; probe < KEY_SLOTS; probe++) {
        slot = &ctx->keys[(hash + (unsigned long)probe) & (KEY_SLOTS - 1)];
        if (slot->name == NULL) break;
        if (slot->len == len && memcmp(slot->key, key, (size_t)len) == 0) return slot;
    }
    if (ctx->cached >= MAX_CACHED_KEYS) return NULL; /* a block with that many keys goes the reference path */
    slot->name = PyUnicode_FromStringAndSize(key, len); /* keys are ASCII */
    if (slot->name == NULL) return NULL;
    slot->integer = PySet_Contains(ctx->integer_fields, slot->name);
    if (slot->integer < 0) {
        Py_CLEAR(slot->name);
        return NULL;
    }
    ctx->cached++;
    slot->key = key; /* points into the block, which lives for the whole call */
    slot->len = len;
    slot->reserved = reserved_key(key, len, ctx->provenance);
    slot->required = required_key(key, len);
    slot->stamp = 0;
    return slot;
}

/* Finds every field's key slot: 1 done, 0 an unusual line (a repeated or reserved key, a full table, sn, evt
 * or subEvt missing or without a value, a negative sn: the reference path explains), -1 error. */
static int resolve_keys(Context *ctx, Span *spans, int count) {
    int i, required = 0;
    ctx->stamp++;
    for (i = 0; i < count; i++) {
        KeySlot *slot = key_slot(ctx, spans[i].key, spans[i].key_len);
        if (slot == NULL) return PyErr_Occurred() ? -1 : 0;
        if (slot->reserved || slot->stamp == ctx->stamp) return 0;
        slot->stamp = ctx->stamp;
        spans[i].slot = slot;
        if (slot->required) {
            if (no_value_marker(&spans[i])) return 0;
            if (slot->required == REQUIRED_SN && spans[i].value[0] == '-') return 0;
            required |= slot->required;
        }
    }
    return required == REQUIRED_ALL;
}

/* 1: valid UTF-8 as Python's strict decoder sees it (RFC 3629: no overlong form, no surrogate, at most
 * U+10FFFF), else 0. */
static int valid_utf8(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        Py_ssize_t more;
        unsigned char low = 0x80, high = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) more = 1;
        else if (c >= 0xE0 && c <= 0xEF) more = 2;
        else if (c >= 0xF0 && c <= 0xF4) more = 3;
        else return 0;
        if (c == 0xE0) low = 0xA0;       /* overlong */
        else if (c == 0xED) high = 0x9F; /* surrogates */
        else if (c == 0xF0) low = 0x90;  /* overlong */
        else if (c == 0xF4) high = 0x8F; /* beyond U+10FFFF */
        if (more > n - i - 1) return 0;
        if (p[i + 1] < low || p[i + 1] > high) return 0;
        if (more >= 2 && (p[i + 2] & 0xC0) != 0x80) return 0;
        if (more == 3 && (p[i + 3] & 0xC0) != 0x80) return 0;
        i += more + 1;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ Python objects */

static PyObject *text_value(const Span *span, int ascii, char *scratch) {
    const char *data = span->value;
    Py_ssize_t len = span->value_len;
    if (span->escaped) {
        len = unescape(span, scratch);
        data = scratch;
    }
    if (ascii) {
        PyObject *text = PyUnicode_New(len, 127);
        if (text != NULL) memcpy(PyUnicode_DATA(text), data, (size_t)len);
        return text;
    }
    return PyUnicode_DecodeUTF8(data, len, "strict");
}

static PyObject *integer_object(const Span *span) {
    if (span->value_len <= 18) {
        long long value = 0;
        Py_ssize_t i = span->value[0] == '-';
        for (; i < span->value_len; i++) value = value * 10 + (span->value[i] - '0');
        return PyLong_FromLongLong(span->value[0] == '-' ? -value : value);
    } else {
        char *copy = PyMem_Malloc((size_t)span->value_len + 1);
        PyObject *number;
        if (copy == NULL) return PyErr_NoMemory();
        memcpy(copy, span->value, (size_t)span->value_len);
        copy[span->value_len] = '\0';
        number = PyLong_FromString(copy, NULL, 10);
        PyMem_Free(copy);
        return number;
    }
}

/* The record as a dict, Py_None for an unusual line, NULL on error. */
static PyObject *record_object(Context *ctx, const Span *spans, int count, const char *time, Py_ssize_t time_len,
                               int zoned, int ascii, Py_ssize_t number, char *scratch) {
    PyObject *record = PyDict_New(), *value;
    int i;
    if (record == NULL) return NULL;
    value = PyUnicode_FromStringAndSize(time, time_len);
    if (value == NULL || PyDict_SetItem(record, TIME_KEY, value) < 0) goto error;
    Py_DECREF(value);
    if (!zoned && PyDict_Update(record, ctx->zone_less) < 0) goto error_record;
    for (i = 0; i < count; i++) {
        const Span *span = &spans[i];
        const KeySlot *slot = span->slot;
        value = NULL;
        if (slot->integer && !span->escaped && !no_value_marker(span)) {
            if (!canonical_integer(span->value, span->value_len)) {
                Py_DECREF(record);
                Py_RETURN_NONE;
            }
            value = integer_object(span);
        } else if (slot->integer && span->escaped) {
            Py_DECREF(record);
            Py_RETURN_NONE; /* a value with a quote is never an integer nor a no-value marker */
        } else {
            value = text_value(span, ascii, scratch);
            if (value == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                PyErr_Clear();
                Py_DECREF(record);
                Py_RETURN_NONE;
            }
        }
        if (value == NULL || PyDict_SetItem(record, slot->name, value) < 0) goto error;
        Py_DECREF(value);
    }
    if (ctx->provenance) {
        if (PyDict_SetItem(record, FILE_KEY, ctx->name) < 0) goto error_record;
        value = PyLong_FromSsize_t(number);
        if (value == NULL || PyDict_SetItem(record, LINE_KEY, value) < 0) goto error;
        Py_DECREF(value);
    }
    return record;
error:
    Py_XDECREF(value);
error_record:
    Py_DECREF(record);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ JSON bytes */

static int reserve(Context *ctx, Py_ssize_t more) {
    if (ctx->used + more > ctx->capacity) {
        Py_ssize_t capacity = (ctx->used + more) * 2;
        char *grown = PyMem_Realloc(ctx->buffer, (size_t)capacity);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        ctx->buffer = grown;
        ctx->capacity = capacity;
    }
    return 0;
}

static void put(Context *ctx, const char *data, Py_ssize_t len) {
    memcpy(ctx->buffer + ctx->used, data, (size_t)len);
    ctx->used += len;
}

/* The value as a JSON string, like json.dumps(ensure_ascii=False): needs at most 6 * len + 2 bytes. */
static void put_string(Context *ctx, const Span *span) {
    static const char hex[] = "0123456789abcdef";
    char *out = ctx->buffer + ctx->used;
    Py_ssize_t i;
    *out++ = '"';
    for (i = 0; i < span->value_len; i++) {
        unsigned char c;
        while (i + 8 <= span->value_len) { /* runs of ordinary bytes, a word at a time */
            uint64_t word;
            memcpy(&word, span->value + i, 8);
            if (JSON_SPECIAL(word)) break;
            memcpy(out, &word, 8);
            out += 8;
            i += 8;
        }
        if (i >= span->value_len) break;
        c = (unsigned char)span->value[i];
        if (c == '"') {
            if (span->escaped) i++; /* "" in a quoted value */
            *out++ = '\\';
            *out++ = '"';
        } else if (c == '\\') {
            *out++ = '\\';
            *out++ = '\\';
        } else if (c < 0x20) {
            *out++ = '\\';
            switch (c) {
            case '\n': *out++ = 'n'; break;
            case '\r': *out++ = 'r'; break;
            case '\t': *out++ = 't'; break;
            case '\b': *out++ = 'b'; break;
            case '\f': *out++ = 'f'; break;
            default:
                memcpy(out, "u00", 3);
                out += 3;
                *out++ = hex[c >> 4];
                *out++ = hex[c & 15];
            }
        } else {
            *out++ = (char)c;
        }
    }
    *out++ = '"';
    ctx->used = out - ctx->buffer;
}

/* Appends the record's JSON to ctx->buffer; 1 done, 0 an unusual line (nothing appended), -1 error. */
static int record_json(Context *ctx, const Span *spans, int count, const char *time, Py_ssize_t time_len, int zoned,
                       Py_ssize_t number) {
    Py_ssize_t start = ctx->used, need = 16 + time_len + ctx->name_json_len + ctx->zone_less_json_len + 40;
    int i;
    for (i = 0; i < count; i++) need += spans[i].key_len + 4 + 6 * spans[i].value_len + 2;
    if (reserve(ctx, need) < 0) return -1;
    put(ctx, "{\"time\":\"", 9);
    put(ctx, time, time_len);
    put(ctx, "\"", 1);
    if (!zoned) put(ctx, ctx->zone_less_json, ctx->zone_less_json_len);
    for (i = 0; i < count; i++) {
        const Span *span = &spans[i];
        int integer = span->slot->integer;
        put(ctx, ",\"", 2);
        put(ctx, span->key, span->key_len);
        put(ctx, "\":", 2);
        if (integer && !no_value_marker(span)) {
            if (span->escaped || !canonical_integer(span->value, span->value_len)) {
                ctx->used = start;
                return 0;
            }
            put(ctx, span->value, span->value_len); /* a canonical decimal is its own JSON */
        } else {
            put_string(ctx, span);
        }
    }
    if (ctx->provenance) {
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%zd", number);
        put(ctx, ",\"_file\":", 9);
        put(ctx, ctx->name_json, ctx->name_json_len);
        put(ctx, ",\"_line\":", 9);
        put(ctx, digits, len);
    }
    put(ctx, "}\n", 2);
    return 1;
}

/* ------------------------------------------------------------------------------------------ the block */

static int flush_json(Context *ctx, PyObject *items) {
    PyObject *run;
    int status;
    if (ctx->used == 0) return 0;
    run = PyBytes_FromStringAndSize(ctx->buffer, ctx->used - 1); /* without the last LF */
    if (run == NULL) return -1;
    status = PyList_Append(items, run);
    Py_DECREF(run);
    ctx->used = 0;
    return status;
}

static int all_ascii(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i;
    for (i = 0; i + 8 <= n; i += 8) {
        uint64_t word;
        memcpy(&word, p + i, 8);
        if (word & HIGHS) return 0;
    }
    for (; i < n; i++) {
        if (p[i] & 0x80) return 0;
    }
    return 1;
}

/* One line: 1 converted (appended), 0 unusual, -1 error. */
static int convert_line(Context *ctx, const unsigned char *p, Py_ssize_t n, Py_ssize_t number, Span *spans, char *scratch,
                        PyObject *items) {
    char time[48];
    Py_ssize_t time_len = 0, pos;
    int count, ascii, status, zoned = 0;
    PyObject *record;
    if (n > ctx->max_line) return 0;
    pos = parse_header(p, n, time, &time_len, &zoned);
    if (pos < 0) return 0;
    count = parse_fields(p, n, pos, spans);
    if (count <= 0) return 0;
    status = resolve_keys(ctx, spans, count);
    if (status <= 0) return status;
    ascii = all_ascii(p, n);
    if (!ascii) {
        if (ctx->ascii_only) return 0;
        if (ctx->json && !valid_utf8(p, n)) return 0;
    }
    if (ctx->json) {
        status = record_json(ctx, spans, count, time, time_len, zoned, number);
        if (status == 1 && !zoned) ctx->zone_less_records++;
        return status;
    }
    record = record_object(ctx, spans, count, time, time_len, zoned, ascii, number, scratch);
    if (record == NULL) return -1;
    if (record == Py_None) {
        Py_DECREF(record);
        return 0;
    }
    status = PyList_Append(items, record);
    Py_DECREF(record);
    if (status < 0) return -1;
    if (!zoned) ctx->zone_less_records++;
    return 1;
}

static int add_unusual(Context *ctx, PyObject *items, Py_ssize_t index, Py_ssize_t start, Py_ssize_t end) {
    PyObject *entry;
    int status;
    if (ctx->json && flush_json(ctx, items) < 0) return -1;
    entry = Py_BuildValue("(nnn)", index, start, end);
    if (entry == NULL) return -1;
    status = PyList_Append(items, entry);
    Py_DECREF(entry);
    return status;
}

static PyObject *convert_block(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"block", "base", "integer_fields", "zone_less", "zone_less_json", "json", "ascii_only",
                               "max_line", "provenance", "name", "name_json", NULL};
    Py_buffer block;
    Py_ssize_t base, index = 0, start = 0, blank = 0, records = 0;
    Context *ctx;
    Span *spans = NULL;
    char *scratch = NULL;
    PyObject *items = NULL, *result = NULL;
    const unsigned char *data;
    int i;
    (void)module;
    ctx = PyMem_Calloc(1, sizeof(Context));
    if (ctx == NULL) return PyErr_NoMemory();
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*nO!O!y#ppnpOy#", keywords, &block, &base, &PyFrozenSet_Type,
                                     &ctx->integer_fields, &PyDict_Type, &ctx->zone_less, &ctx->zone_less_json,
                                     &ctx->zone_less_json_len, &ctx->json, &ctx->ascii_only, &ctx->max_line,
                                     &ctx->provenance, &ctx->name, &ctx->name_json, &ctx->name_json_len)) {
        PyMem_Free(ctx);
        return NULL;
    }
    spans = PyMem_Malloc(sizeof(Span) * MAX_FIELDS);
    scratch = PyMem_Malloc((size_t)(ctx->max_line > 0 ? ctx->max_line : 1));
    items = PyList_New(0);
    if (spans == NULL || scratch == NULL || items == NULL) {
        if (items != NULL) PyErr_NoMemory();
        goto done;
    }
    data = block.buf;
    while (start < block.len) {
        const unsigned char *lf = memchr(data + start, '\n', (size_t)(block.len - start));
        Py_ssize_t end = lf ? lf - data : block.len, stop = end;
        int status;
        if (lf && stop > start && data[stop - 1] == '\r') stop--; /* CR only directly before LF */
        if (stop == start) {
            blank++;
        } else {
            status = convert_line(ctx, data + start, stop - start, base + index + 1, spans, scratch, items);
            if (status < 0) goto done;
            if (status == 0 && add_unusual(ctx, items, index, start, stop) < 0) goto done;
            records += status;
        }
        index++;
        start = end + 1;
    }
    if (ctx->json && flush_json(ctx, items) < 0) goto done;
    result = Py_BuildValue("(Onnnn)", items, index, blank, records, ctx->zone_less_records);
done:
    for (i = 0; i < KEY_SLOTS; i++) Py_XDECREF(ctx->keys[i].name);
    PyMem_Free(ctx->buffer);
    PyMem_Free(ctx);
    PyMem_Free(spans);
    PyMem_Free(scratch);
    Py_XDECREF(items);
    PyBuffer_Release(&block);
    return result;
}

PyDoc_STRVAR(convert_block_doc,
             "convert_block(block, base, integer_fields, zone_less, zone_less_json, json, ascii_only, max_line, "
             "provenance, name, name_json)\n--\n\n"
             "Convert the common lines of a block of whole lines; return (items, lines, blank, records, "
             "zone_less_records).\n\n"
             "A zone-less line's record gets the items of the dict zone_less after its time (zone_less_json: the "
             "same as JSON object members, each with its leading comma). Lines without sn, evt and subEvt with a "
             "value, with a negative sn, or with a time_offset key go the reference path.\n\n"
             "items holds, in line order, a dict per converted line (json false) or bytes of consecutive converted "
             "lines as JSON joined by LF (json true), and (index, start, end) for every other non-blank line: the "
             "caller converts those by the reference path. base is the number of lines before the block.");

static PyMethodDef methods[] = {
    {"convert_block", (PyCFunction)(void (*)(void))convert_block, METH_VARARGS | METH_KEYWORDS, convert_block_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "_speedups", "The compiled fast path of the Mark II reader (optional).", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    TIME_KEY = PyUnicode_InternFromString("time");
    FILE_KEY = PyUnicode_InternFromString("_file");
    LINE_KEY = PyUnicode_InternFromString("_line");
    if (TIME_KEY == NULL || FILE_KEY == NULL || LINE_KEY == NULL) return NULL;
    return PyModule_Create(&module_definition);
}
