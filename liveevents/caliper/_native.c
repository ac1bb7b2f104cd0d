/* The Caliper envelope of one Canvas event, written straight to JSON bytes.
 *
 * A compiled twin of liveevents/caliper/envelope.py for the common case, for speed: it reads
 * the decoded record and writes the bytes orjson.dumps(CaliperTransformer.envelope(...)) would
 * write, without building the envelope as Python objects (docs/performance.md).  Which rules
 * apply to an event type comes from the program liveevents/caliper/native.py compiles from the
 * registry (a Shape's fields as ops, the transformer's options and caches); what is written here
 * again is the rest of the Python path: the envelope's layout, the actor, context and membership
 * rules and the five object builders native.py names (put_asset ...).  Every value it does not
 * handle itself (an id that is not plain ASCII letters and digits, a timestamp not already
 * canonical, an unseen host or asset type) goes to the same Python function the Python path calls.
 *
 * It never reports an error: for anything it is not sure of (a malformed record, a value the
 * Python path would reject, an unusual type) it returns None and the caller takes the Python
 * path, which gives the answer or the error with its field, value and rule.  So it can only
 * ever be faster, never different; tests/test_native.py compares the two on every fixture and
 * on generated records.
 */
#define PY_SSIZE_T_CLEAN
/* The SHA-256 of this file, set by setup.py (native.py compares it with the file it finds). */
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 ""
#endif
#include <Python.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------- output buffer */

typedef struct {
    char *data;
    Py_ssize_t length;
    Py_ssize_t capacity;
    char inline_storage[4096];
} Buffer;

static void buffer_init(Buffer *buffer) {
    buffer->data = buffer->inline_storage;
    buffer->length = 0;
    buffer->capacity = sizeof(buffer->inline_storage);
}

static void buffer_free(Buffer *buffer) {
    if (buffer->data != buffer->inline_storage) PyMem_Free(buffer->data);
}

static int buffer_grow(Buffer *buffer, Py_ssize_t extra) {
    Py_ssize_t capacity = buffer->capacity;
    while (capacity < buffer->length + extra) capacity *= 2;
    char *data;
    if (buffer->data == buffer->inline_storage) {
        data = PyMem_Malloc(capacity);
        if (data != NULL) memcpy(data, buffer->data, buffer->length);
    } else {
        data = PyMem_Realloc(buffer->data, capacity);
    }
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

static inline int buffer_reserve(Buffer *buffer, Py_ssize_t extra) {
    return buffer->length + extra <= buffer->capacity ? 0 : buffer_grow(buffer, extra);
}

static inline int put_bytes(Buffer *buffer, const char *bytes, Py_ssize_t size) {
    if (buffer_reserve(buffer, size) < 0) return -1;
    memcpy(buffer->data + buffer->length, bytes, size);
    buffer->length += size;
    return 0;
}

#define PUT_LITERAL(buffer, literal) put_bytes((buffer), (literal), (Py_ssize_t)sizeof(literal) - 1)

/* A byte of these 8 (read as one word) may need escaping: '"', '\\' or below 0x20 (bytes of
 * multi-byte characters may give false alarms, which the byte loop then clears). */
static inline int word_may_need_escape(uint64_t word) {
    const uint64_t ones = 0x0101010101010101ULL, high_bits = 0x8080808080808080ULL;
    uint64_t quote = word ^ (ones * '"'), backslash = word ^ (ones * '\\');
    uint64_t flagged = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((word - ones * 0x20) & ~word);
    return (flagged & high_bits) != 0;
}

/* orjson's escaping: '"', '\\' and the control characters; everything else as UTF-8. */
static int put_escaped(Buffer *buffer, const char *text, Py_ssize_t size) {
    static const char hex[] = "0123456789abcdef";
    if (buffer_reserve(buffer, size) < 0) return -1;
    Py_ssize_t start = 0, i = 0;
    while (i < size) {
        for (uint64_t word; i + 8 <= size; i += 8) {
            memcpy(&word, text + i, 8);
            if (word_may_need_escape(word)) break;
        }
        Py_ssize_t end = i + 8 <= size ? i + 8 : size;
        for (; i < end; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            if (put_bytes(buffer, text + start, i - start) < 0) return -1;
            char escape[6] = {'\\', 0, 0, 0, 0, 0};
            Py_ssize_t escape_size = 2;
            switch (c) {
                case '"': escape[1] = '"'; break;
                case '\\': escape[1] = '\\'; break;
                case '\b': escape[1] = 'b'; break;
                case '\t': escape[1] = 't'; break;
                case '\n': escape[1] = 'n'; break;
                case '\f': escape[1] = 'f'; break;
                case '\r': escape[1] = 'r'; break;
                default:
                    escape[1] = 'u'; escape[2] = '0'; escape[3] = '0';
                    escape[4] = hex[c >> 4]; escape[5] = hex[c & 15];
                    escape_size = 6;
            }
            if (put_bytes(buffer, escape, escape_size) < 0) return -1;
            start = i + 1;
        }
    }
    return put_bytes(buffer, text + start, size - start);
}

/* The characters of an exact str, escaped, without quotes (-1 for a str with lone surrogates,
 * which orjson refuses too). */
static int put_text(Buffer *buffer, PyObject *text) {
    if (PyUnicode_IS_COMPACT_ASCII(text)) return put_escaped(buffer, (const char *)PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text));
    Py_ssize_t size;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &size);
    if (utf8 == NULL) return -1;
    return put_escaped(buffer, utf8, size);
}

static int put_string(Buffer *buffer, PyObject *text) {
    if (PUT_LITERAL(buffer, "\"") < 0 || put_text(buffer, text) < 0) return -1;
    return PUT_LITERAL(buffer, "\"");
}

/* "prefix<text>" with a raw (already JSON-safe) prefix. */
static int put_prefixed(Buffer *buffer, PyObject *prefix, PyObject *text) {
    if (PUT_LITERAL(buffer, "\"") < 0 || put_text(buffer, prefix) < 0 || put_text(buffer, text) < 0) return -1;
    return PUT_LITERAL(buffer, "\"");
}

/* ,"key": (the comma unless this is the first member of its object).  Keys are the program's
 * own names, checked by native.py to need no escaping. */
static int put_key(Buffer *buffer, PyObject *key, int *first) {
    if (!PyUnicode_IS_COMPACT_ASCII(key)) {
        PyErr_SetString(PyExc_ValueError, "a key of the program is not ASCII");
        return -1;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(key);
    if (buffer_reserve(buffer, size + 4) < 0) return -1;
    char *end = buffer->data + buffer->length;
    if (!*first) *end++ = ',';
    *first = 0;
    *end++ = '"';
    memcpy(end, PyUnicode_1BYTE_DATA(key), size);
    end += size;
    *end++ = '"';
    *end++ = ':';
    buffer->length = end - buffer->data;
    return 0;
}

/* ---------------------------------------------------------------- the program */

/* What native.py passes: the transformer's options and the Python functions of the rare cases. */
typedef struct {
    PyObject *events;          /* event_name -> (type, action, object op, generated op, context, actor) */
    PyObject *origins;         /* hostname -> (edApp id, sensor), the Python path's cache */
    PyObject *origin_of;       /* hostname -> (edApp id, sensor), checks and caches */
    PyObject *job_origin;      /* (edApp id, sensor) of an event without hostname */
    PyObject *roles;           /* context_role -> (id segment, roles) */
    int redact;
    PyObject *redact_url;
    PyObject *canvas_id;       /* (value, field) -> id text, or raises */
    PyObject *optional_time;   /* value -> canonical timestamp or None */
    PyObject *asset_kinds;     /* asset_type -> (URN prefix, Caliper type or None) */
    PyObject *dumps;
    PyObject *sort_keys;
    PyObject *sha256;
    PyObject *context;         /* http://purl.imsglobal.org/ctx/caliper/v1p1 */
    PyObject *version;
    PyObject *person_fields;
    PyObject *account_fields;
    PyObject *request_fields;  /* event extensions, before request_url */
    PyObject *job_fields;      /* event extensions, after request_url */
    PyObject *asset_metadata_fields;
    PyObject *asset_body_fields;
    PyObject *normalize_timestamp; /* an event_time not already canonical -> canonical, or raises */
    PyObject *loads;
    PyObject *token_parameter; /* in every URL redact_url changes (redaction.TOKEN_PARAMETER) */
    /* The vocabulary of the output, as the Python path spells it (values.py, vocabulary.py). */
    PyObject *course_urn, *user_urn, *session_urn, *submission_urn, *quiz_urn; /* urn:instructure:canvas:<kind>: */
    PyObject *section_infix;  /* :section: */
    PyObject *extensions_key; /* com.instructure.canvas */
} Program;

#define PROGRAM_SIZE 25
#define VOCABULARY_SIZE 7

static int program_read(Program *program, PyObject *tuple) {
    if (!PyTuple_CheckExact(tuple)) {
        PyErr_Format(PyExc_TypeError, "program: expected the tuple native.py compiles, not %.100s", Py_TYPE(tuple)->tp_name);
        return -1;
    }
    if (PyTuple_GET_SIZE(tuple) != PROGRAM_SIZE) {
        /* The usual cause: _native.c edited and not rebuilt (an editable install), or native.py edited alone. */
        PyErr_Format(PyExc_TypeError,
                     "program: %zd items, where the compiled writer reads %d: native.py and the build of _native.c "
                     "are from different versions; rebuild the writer (pip install -e .)",
                     PyTuple_GET_SIZE(tuple), PROGRAM_SIZE);
        return -1;
    }
    PyObject **item = &PyTuple_GET_ITEM(tuple, 0);
    program->events = item[0];
    program->origins = item[1];
    program->origin_of = item[2];
    program->job_origin = item[3];
    program->roles = item[4];
    int redact = PyObject_IsTrue(item[5]); /* any truthy redact_tokens, as the Python path's `if redact` */
    if (redact < 0) return -1;
    program->redact = redact;
    program->redact_url = item[6];
    program->canvas_id = item[7];
    program->optional_time = item[8];
    program->asset_kinds = item[9];
    program->dumps = item[10];
    program->sort_keys = item[11];
    program->sha256 = item[12];
    program->context = item[13];
    program->version = item[14];
    program->person_fields = item[15];
    program->account_fields = item[16];
    program->request_fields = item[17];
    program->job_fields = item[18];
    program->asset_metadata_fields = item[19];
    program->asset_body_fields = item[20];
    program->normalize_timestamp = item[21];
    program->loads = item[22];
    program->token_parameter = item[23];
    PyObject *vocabulary = item[24];
    if (!PyTuple_CheckExact(vocabulary) || PyTuple_GET_SIZE(vocabulary) != VOCABULARY_SIZE) {
        PyErr_SetString(PyExc_TypeError, "program: the vocabulary is not the tuple native.py compiles: rebuild the writer");
        return -1;
    }
    PyObject **word = &PyTuple_GET_ITEM(vocabulary, 0);
    program->course_urn = word[0];
    program->user_urn = word[1];
    program->session_urn = word[2];
    program->submission_urn = word[3];
    program->quiz_urn = word[4];
    program->section_infix = word[5];
    program->extensions_key = word[6];
    return 0;
}

/* Object ops and field ops: the numbers native.py uses. */
enum { OBJECT_SHAPE = 1, OBJECT_ASSET, OBJECT_SYLLABUS, OBJECT_QUIZ_ATTEMPT, OBJECT_SESSION_APP, OBJECT_GRADED_SCORE };
enum { FIELD_COPY = 1, FIELD_DATE, FIELD_TEXT, FIELD_SCORE, FIELD_COUNT, FIELD_IDENTIFIER, FIELD_URN,
       FIELD_EXTENSIONS, FIELD_REFERENCE, FIELD_SHAPE, FIELD_SECTION };
enum { CONTEXT_METADATA = 0, CONTEXT_BODY, CONTEXT_ENROLLMENT_SECTION, CONTEXT_SYLLABUS };
enum { ACTOR_BODY = 1, ACTOR_PERSON_REQUIRED = 2, ACTOR_GRADE_CHANGE = 4 };

/* ---------------------------------------------------------------- interned names */

static PyObject *S_body, *S_attributes, *S_metadata, *S_event_name, *S_event_time, *S_hostname, *S_request_id,
    *S_user_id, *S_real_user_id, *S_grader_id, *S_session_id, *S_referrer, *S_url, *S_context_type, *S_context_id,
    *S_context_role, *S_course_id, *S_course_section_id, *S_asset_type, *S_asset_id, *S_asset_subtype, *S_asset_name,
    *S_submission_id, *S_quiz_id, *S_redirect_url, *S_syllabus_body, *S_entity_id, *S_Course, *S_digest,
    *S_option, *S_version;

/* A key of the output, the field name passed to canvas_id (its errors are not shown), and
 * dumps's keyword names. */
static PyObject *S_empty, *S_request_url, *S_keywords;

/* ---------------------------------------------------------------- one rendering */

#define MAX_OWNED 160

typedef struct {
    Program *program;
    Buffer *out;
    PyObject *owned[MAX_OWNED]; /* new references made along the way, released at the end */
    int owned_count;
    /* The record was decoded here (render_bytes) and nothing else holds it: what is read from it
     * cannot be changed or freed before the render ends, so it is not held (present). */
    int private_record;
} Render;

static PyObject *own(Render *render, PyObject *object) {
    if (object == NULL) return NULL;
    if (render->owned_count == MAX_OWNED) {
        Py_DECREF(object);
        PyErr_SetString(PyExc_RuntimeError, "native render: too many values");
        return NULL;
    }
    render->owned[render->owned_count++] = object;
    return object;
}

/* The value under key, or NULL when absent or null (the Python path's `.get(key) is None`). */
static PyObject *present(Render *render, PyObject *dict, PyObject *key) {
    PyObject *value = PyDict_GetItemWithError(dict, key);
    if (value == NULL || value == Py_None) return NULL;
    if (render->private_record) return value;
    /* Held until the render ends: the Python code it calls (a check, or another thread meanwhile)
     * could change the caller's record and free a borrowed value. */
    return own(render, Py_NewRef(value));
}

static int is_ascii_alnum(PyObject *text) {
    if (!PyUnicode_IS_ASCII(text)) return 0;
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    const unsigned char *c = PyUnicode_1BYTE_DATA(text);
    if (size == 0) return 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char ch = c[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) return 0;
    }
    return 1;
}

/* values.canvas_id: a str of digits and letters as it is, an int in decimal, anything else by
 * the Python function (which checks it, or raises: the writer then declines and the Python
 * path raises again, naming the field, so no field name is passed here). */
static PyObject *id_text(Render *render, PyObject *value) {
    if (PyUnicode_CheckExact(value) && is_ascii_alnum(value)) return value;
    if (PyLong_CheckExact(value)) return own(render, PyObject_Str(value));
    if (!PyUnicode_CheckExact(value)) {
        PyErr_SetString(PyExc_ValueError, "not a Canvas id");
        return NULL;
    }
    return own(render, PyObject_CallFunctionObjArgs(render->program->canvas_id, value, S_empty, NULL));
}

/* The id under key (NULL with no error set when absent). */
static PyObject *optional_id(Render *render, PyObject *source, PyObject *key) {
    PyObject *value = present(render, source, key);
    if (value == NULL) return NULL;
    return id_text(render, value);
}

static PyObject *required_id(Render *render, PyObject *source, PyObject *key) {
    PyObject *value = present(render, source, key);
    if (value == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "required id missing");
        return NULL;
    }
    return id_text(render, value);
}

static int digits(const char *text, int start, int count) {
    int value = 0;
    for (int i = start; i < start + count; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

/* YYYY-MM-DDTHH:MM:SS.sssZ naming a real date and time: what timestamps.normalize_timestamp
 * returns unchanged. */
static int is_canonical_time(PyObject *text) {
    if (!PyUnicode_IS_ASCII(text) || PyUnicode_GET_LENGTH(text) != 24) return 0;
    const char *c = (const char *)PyUnicode_1BYTE_DATA(text);
    if (c[4] != '-' || c[7] != '-' || c[10] != 'T' || c[13] != ':' || c[16] != ':' || c[19] != '.' || c[23] != 'Z') return 0;
    int year = digits(c, 0, 4), month = digits(c, 5, 2), day = digits(c, 8, 2);
    int hour = digits(c, 11, 2), minute = digits(c, 14, 2), second = digits(c, 17, 2), millis = digits(c, 20, 3);
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59 || millis < 0)
        return 0;
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= month_days[month - 1] + (month == 2 && leap);
}

/* values.optional_time: the canonical form of a body timestamp, or NULL (no error) to leave it out. */
static PyObject *optional_time(Render *render, PyObject *value) {
    if (!PyUnicode_CheckExact(value)) return NULL;
    if (is_canonical_time(value)) return value;
    PyObject *normalized = own(render, PyObject_CallOneArg(render->program->optional_time, value));
    if (normalized == NULL) return NULL;
    if (normalized == Py_None) return NULL;
    return normalized;
}

/* Values copied into the envelope sit at most 6 levels deep in it; orjson writes 254 levels. */
#define NESTING_LIMIT 200

/* 1 when value is not made of exact dicts and lists of other values, or nests them more than
 * limit levels deep; 0 when it is JSON the writer may have orjson write on its own; -1 on error. */
static int nested_deeper_than(PyObject *value, int limit) {
    if (PyDict_CheckExact(value)) {
        if (limit == 0) return 1;
        Py_ssize_t position = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &position, &key, &item)) {
            int deeper = nested_deeper_than(item, limit - 1);
            if (deeper != 0) return deeper;
        }
        return 0;
    }
    if (PyList_CheckExact(value)) {
        if (limit == 0) return 1;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            int deeper = nested_deeper_than(PyList_GET_ITEM(value, i), limit - 1);
            if (deeper != 0) return deeper;
        }
        return 0;
    }
    if (PyUnicode_CheckExact(value) || PyLong_CheckExact(value) || PyFloat_CheckExact(value) || PyBool_Check(value) ||
        value == Py_None)
        return 0;
    return 1;
}

/* Any JSON value as orjson writes it: the common types here, the rest (floats, containers,
 * big integers) by orjson itself. */
static int put_value(Render *render, PyObject *value) {
    Buffer *out = render->out;
    if (PyUnicode_CheckExact(value)) return put_string(out, value);
    if (value == Py_True) return PUT_LITERAL(out, "true");
    if (value == Py_False) return PUT_LITERAL(out, "false");
    if (value == Py_None) return PUT_LITERAL(out, "null");
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow) {
            if (number == -1 && PyErr_Occurred()) return -1;
            char text[24];
            int size = snprintf(text, sizeof(text), "%lld", number);
            return put_bytes(out, text, size);
        }
    }
    if (!PyFloat_CheckExact(value) && !PyLong_CheckExact(value) && (nested_deeper_than(value, NESTING_LIMIT) != 0)) {
        /* Any other type (only from Python callers), or containers near orjson's depth limit:
         * dumped alone they may pass where the whole envelope fails. The Python path answers. */
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a value the writer leaves to the Python path");
        return -1;
    }
    PyObject *json = PyObject_CallOneArg(render->program->dumps, value);
    if (json == NULL) return -1;
    int result = put_bytes(out, PyBytes_AS_STRING(json), PyBytes_GET_SIZE(json));
    Py_DECREF(json);
    return result;
}

/* values.score: a number, an integral float as an integer. */
static int put_number(Render *render, PyObject *value) {
    if (PyFloat_CheckExact(value)) {
        double number = PyFloat_AS_DOUBLE(value);
        if (isfinite(number) && number == floor(number)) {
            PyObject *integer = own(render, PyLong_FromDouble(number));
            return integer == NULL ? -1 : put_value(render, integer);
        }
    }
    return put_value(render, value);
}

static int put_shape(Render *render, PyObject *body, PyObject *op, int close);

/* The fields of a Shape (shapes.py), each ",key:value" unless its value is absent. */
static int put_fields(Render *render, PyObject *body, PyObject *fields, int *first) {
    Buffer *out = render->out;
    Py_ssize_t count = PyTuple_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(field, 0));
        PyObject *key = PyTuple_GET_ITEM(field, 1);
        PyObject *value;
        switch (kind) {
            case FIELD_COPY:
                if ((value = present(render, body, PyTuple_GET_ITEM(field, 2))) == NULL) break;
                if (put_key(out, key, first) < 0 || put_value(render, value) < 0) return -1;
                break;
            case FIELD_DATE: {
                PyObject *sources = PyTuple_GET_ITEM(field, 2);
                value = NULL;
                for (Py_ssize_t s = 0; s < PyTuple_GET_SIZE(sources) && value == NULL; s++) {
                    value = present(render, body, PyTuple_GET_ITEM(sources, s));
                    if (value == NULL && PyErr_Occurred()) return -1;
                }
                if (value == NULL || (value = optional_time(render, value)) == NULL) break;
                if (put_key(out, key, first) < 0 || put_string(out, value) < 0) return -1;
                break;
            }
            case FIELD_TEXT:
                if ((value = present(render, body, PyTuple_GET_ITEM(field, 2))) == NULL || !PyUnicode_CheckExact(value)) break;
                if (put_key(out, key, first) < 0 || put_string(out, value) < 0) return -1;
                break;
            case FIELD_SCORE:
            case FIELD_COUNT:
                value = present(render, body, PyTuple_GET_ITEM(field, 2));
                if (value == NULL) break;
                if (kind == FIELD_COUNT && PyFloat_CheckExact(value)) {
                    double number = PyFloat_AS_DOUBLE(value);
                    if (!isfinite(number) || number != floor(number)) break;
                } else if (!PyLong_CheckExact(value) && !PyFloat_CheckExact(value)) {
                    break;
                }
                if (put_key(out, key, first) < 0 || put_number(render, value) < 0) return -1;
                break;
            case FIELD_IDENTIFIER:
                if ((value = optional_id(render, body, PyTuple_GET_ITEM(field, 2))) == NULL) break;
                if (put_key(out, key, first) < 0 || put_string(out, value) < 0) return -1;
                break;
            case FIELD_URN:
                if ((value = optional_id(render, body, PyTuple_GET_ITEM(field, 3))) == NULL) break;
                if (put_key(out, key, first) < 0 || put_prefixed(out, PyTuple_GET_ITEM(field, 2), value) < 0) return -1;
                break;
            case FIELD_EXTENSIONS: {
                Py_ssize_t start = out->length;
                int was_first = *first, inner_first = 1;
                if (put_key(out, key, first) < 0 || PUT_LITERAL(out, "{") < 0 || put_string(out, render->program->extensions_key) < 0 ||
                    PUT_LITERAL(out, ":{") < 0 || put_fields(render, body, PyTuple_GET_ITEM(field, 2), &inner_first) < 0)
                    return -1;
                if (inner_first) { /* every field absent: no extensions */
                    out->length = start;
                    *first = was_first;
                } else if (PUT_LITERAL(out, "}}") < 0) {
                    return -1;
                }
                break;
            }
            case FIELD_REFERENCE: {
                if ((value = optional_id(render, body, PyTuple_GET_ITEM(field, 3))) == NULL) break;
                int inner_first = 0;
                if (put_key(out, key, first) < 0 || PUT_LITERAL(out, "{\"id\":") < 0 ||
                    put_prefixed(out, PyTuple_GET_ITEM(field, 2), value) < 0 || PUT_LITERAL(out, ",\"type\":") < 0 ||
                    put_string(out, PyTuple_GET_ITEM(field, 4)) < 0 ||
                    put_fields(render, body, PyTuple_GET_ITEM(field, 5), &inner_first) < 0 || PUT_LITERAL(out, "}") < 0)
                    return -1;
                break;
            }
            case FIELD_SHAPE:
                if (put_key(out, key, first) < 0 || put_shape(render, body, PyTuple_GET_ITEM(field, 2), 1) < 0) return -1;
                break;
            case FIELD_SECTION: {
                PyObject *course = optional_id(render, body, PyTuple_GET_ITEM(field, 2));
                if (course == NULL && PyErr_Occurred()) return -1;
                PyObject *section = optional_id(render, body, PyTuple_GET_ITEM(field, 3));
                if (section == NULL || course == NULL) break;
                if (put_key(out, key, first) < 0 || PUT_LITERAL(out, "\"") < 0 || put_text(out, render->program->course_urn) < 0 ||
                    put_text(out, course) < 0 || put_text(out, render->program->section_infix) < 0 || put_text(out, section) < 0 ||
                    PUT_LITERAL(out, "\"") < 0)
                    return -1;
                break;
            }
            default:
                PyErr_SetString(PyExc_ValueError, "unknown field op");
                return -1;
        }
        if (PyErr_Occurred()) return -1;
    }
    return 0;
}

/* A Shape: {"id": prefix + required id, "type": type, fields...} (close=0 leaves it open). */
static int put_shape(Render *render, PyObject *body, PyObject *op, int close) {
    PyObject *id = required_id(render, body, PyTuple_GET_ITEM(op, 2));
    int first = 0;
    if (id == NULL || PUT_LITERAL(render->out, "{\"id\":") < 0 || put_prefixed(render->out, PyTuple_GET_ITEM(op, 1), id) < 0 ||
        PUT_LITERAL(render->out, ",\"type\":") < 0 || put_string(render->out, PyTuple_GET_ITEM(op, 3)) < 0 ||
        put_fields(render, body, PyTuple_GET_ITEM(op, 4), &first) < 0)
        return -1;
    return close ? PUT_LITERAL(render->out, "}") : 0;
}

/* ---------------------------------------------------------------- the actor */

typedef enum { PERSON, ACCOUNT_PERSON, UNKNOWN_PERSON, BARE_PERSON, APPLICATION } ActorKind;

typedef struct {
    ActorKind kind;
    PyObject *user_id; /* PERSON, ACCOUNT_PERSON, BARE_PERSON */
    PyObject *member_id; /* the user a membership is for, or NULL */
} Actor;

/* origin.is_request: 1, 0, or -1 on error. */
static int is_request(Render *render, PyObject *metadata) {
    if (present(render, metadata, S_hostname) != NULL) return 1;
    if (PyErr_Occurred()) return -1;
    if (present(render, metadata, S_request_id) != NULL) return 1;
    return PyErr_Occurred() ? -1 : 0;
}

/* actor.standard_actor and grading.grade_change_actor. */
static int find_actor(Render *render, long rule, PyObject *metadata, PyObject *body, Actor *actor) {
    actor->member_id = NULL;
    actor->user_id = NULL;
    if (rule & ACTOR_GRADE_CHANGE) {
        PyObject *grader = optional_id(render, body, S_grader_id);
        if (grader == NULL && PyErr_Occurred()) return -1;
        int request = is_request(render, metadata);
        if (PyErr_Occurred()) return -1;
        if (grader == NULL || !request) {
            actor->kind = APPLICATION;
            return 0;
        }
        PyObject *acting = optional_id(render, metadata, S_user_id);
        if (acting == NULL && PyErr_Occurred()) return -1;
        actor->kind = BARE_PERSON;
        actor->user_id = grader;
        if (acting != NULL) {
            int same = PyUnicode_Compare(grader, acting);
            if (same == -1 && PyErr_Occurred()) return -1;
            if (same == 0) actor->member_id = grader;
        }
        return 0;
    }
    PyObject *user = present(render, metadata, S_user_id);
    if (user != NULL) {
        if ((user = id_text(render, user)) == NULL) return -1;
        actor->kind = PERSON;
        actor->user_id = actor->member_id = user;
        return 0;
    }
    if (PyErr_Occurred()) return -1;
    if (rule & ACTOR_BODY) {
        user = present(render, body, S_user_id);
        if (user != NULL) {
            if ((user = id_text(render, user)) == NULL) return -1;
            actor->kind = ACCOUNT_PERSON;
            actor->user_id = actor->member_id = user;
            return 0;
        }
        if (PyErr_Occurred()) return -1;
    }
    int request = (rule & ACTOR_PERSON_REQUIRED) ? is_request(render, metadata) : 0;
    if (PyErr_Occurred()) return -1;
    actor->kind = request ? UNKNOWN_PERSON : APPLICATION;
    return 0;
}

static int actor_is_person(const Actor *actor) { return actor->kind != APPLICATION; }

/* The actor's id: "urn:instructure:canvas:user:<id>" ("...:user:0" when Canvas does not know). */
static int put_actor_id(Render *render, const Actor *actor, PyObject *app_id) {
    if (actor->kind == APPLICATION) return put_string(render->out, app_id);
    if (actor->kind == UNKNOWN_PERSON) {
        return PUT_LITERAL(render->out, "\"") < 0 || put_text(render->out, render->program->user_urn) < 0 ||
               PUT_LITERAL(render->out, "0\"") < 0 ? -1 : 0;
    }
    return put_prefixed(render->out, render->program->user_urn, actor->user_id);
}

/* Present metadata fields, in order, as members of the open object. */
static int put_present(Render *render, PyObject *source, PyObject *keys, int *first) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(keys); i++) {
        PyObject *key = PyTuple_GET_ITEM(keys, i);
        PyObject *value = present(render, source, key);
        if (value == NULL) {
            if (PyErr_Occurred()) return -1;
            continue;
        }
        if (put_key(render->out, key, first) < 0 || put_value(render, value) < 0) return -1;
    }
    return 0;
}

static int put_actor(Render *render, const Actor *actor, PyObject *metadata, PyObject *app_id) {
    Buffer *out = render->out;
    if (PUT_LITERAL(out, "{\"id\":") < 0 || put_actor_id(render, actor, app_id) < 0) return -1;
    if (actor->kind == APPLICATION) return PUT_LITERAL(out, ",\"type\":\"SoftwareApplication\"}");
    if (PUT_LITERAL(out, ",\"type\":\"Person\"") < 0) return -1;
    if (actor->kind == UNKNOWN_PERSON || actor->kind == BARE_PERSON) return PUT_LITERAL(out, "}");
    int first = 1;
    PyObject *fields = actor->kind == PERSON ? render->program->person_fields : render->program->account_fields;
    if (PUT_LITERAL(out, ",\"extensions\":{") < 0 || put_string(out, render->program->extensions_key) < 0 || PUT_LITERAL(out, ":{") < 0 ||
        put_present(render, metadata, fields, &first) < 0 || put_key(out, S_entity_id, &first) < 0 ||
        put_string(out, actor->user_id) < 0)
        return -1;
    PyObject *real_user = present(render, metadata, S_real_user_id);
    if (real_user != NULL) {
        if ((real_user = id_text(render, real_user)) == NULL) return -1;
        if (put_key(out, S_real_user_id, &first) < 0 || put_string(out, real_user) < 0) return -1;
    } else if (PyErr_Occurred()) {
        return -1;
    }
    return PUT_LITERAL(out, "}}}");
}

/* ---------------------------------------------------------------- objects */

/* navigation.asset_object */
static int put_asset(Render *render, PyObject *metadata, PyObject *body) {
    Buffer *out = render->out;
    PyObject *asset_type = PyDict_GetItemWithError(body, S_asset_type);
    if (asset_type != NULL) asset_type = own(render, Py_NewRef(asset_type));
    if (asset_type == NULL || !PyUnicode_CheckExact(asset_type)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "asset_type");
        return -1;
    }
    /* A strong reference: another thread's __missing__ may replace the cached entry (freeing it)
     * while this one runs Python code (canvas_id below). */
    PyObject *kind = PyDict_GetItemWithError(render->program->asset_kinds, asset_type);
    if (kind != NULL) {
        if ((kind = own(render, Py_NewRef(kind))) == NULL) return -1;
    } else {
        if (PyErr_Occurred()) return -1;
        if ((kind = own(render, PyObject_GetItem(render->program->asset_kinds, asset_type))) == NULL) return -1;
    }
    PyObject *asset_id = required_id(render, body, S_asset_id);
    if (asset_id == NULL) return -1;
    PyObject *subtype = present(render, body, S_asset_subtype);
    if (subtype == NULL && PyErr_Occurred()) return -1;
    PyObject *caliper_type = PyTuple_GET_ITEM(kind, 1);
    if (PUT_LITERAL(out, "{\"id\":") < 0 || put_prefixed(out, PyTuple_GET_ITEM(kind, 0), asset_id) < 0) return -1;
    if (caliper_type == Py_None) {
        PyObject *name = subtype != NULL && PyUnicode_CheckExact(subtype) ? subtype : asset_type;
        if (PUT_LITERAL(out, ",\"type\":\"Entity\",\"name\":") < 0 || put_string(out, name) < 0) return -1;
    } else if (PUT_LITERAL(out, ",\"type\":") < 0 || put_string(out, caliper_type) < 0) {
        return -1;
    }
    int first = 1;
    if (PUT_LITERAL(out, ",\"extensions\":{") < 0 || put_string(out, render->program->extensions_key) < 0 || PUT_LITERAL(out, ":{") < 0)
        return -1;
    PyObject *name = present(render, body, S_asset_name);
    if (name != NULL) {
        if (put_key(out, S_asset_name, &first) < 0 || put_value(render, name) < 0) return -1;
    } else if (PyErr_Occurred()) {
        return -1;
    }
    if (put_key(out, S_asset_type, &first) < 0 || put_string(out, asset_type) < 0) return -1;
    if (subtype != NULL && (put_key(out, S_asset_subtype, &first) < 0 || put_value(render, subtype) < 0)) return -1;
    if (put_key(out, S_entity_id, &first) < 0 || put_string(out, asset_id) < 0 ||
        put_present(render, metadata, render->program->asset_metadata_fields, &first) < 0 ||
        put_present(render, body, render->program->asset_body_fields, &first) < 0)
        return -1;
    return PUT_LITERAL(out, "}}}");
}

/* courses.syllabus */
static int put_syllabus(Render *render, PyObject *body, const Actor *actor, PyObject *app_id) {
    Buffer *out = render->out;
    PyObject *course = required_id(render, body, S_course_id);
    if (course == NULL || PUT_LITERAL(out, "{\"id\":") < 0 || put_prefixed(out, render->program->course_urn, course) < 0 ||
        PUT_LITERAL(out, ",\"type\":\"Document\",\"name\":\"Syllabus\"") < 0)
        return -1;
    if (actor_is_person(actor) && (PUT_LITERAL(out, ",\"creators\":[{\"id\":") < 0 || put_actor_id(render, actor, app_id) < 0 ||
                                   PUT_LITERAL(out, ",\"type\":\"Person\"}]") < 0))
        return -1;
    PyObject *text = present(render, body, S_syllabus_body);
    if (text != NULL && PyUnicode_CheckExact(text) && (PUT_LITERAL(out, ",\"body\":") < 0 || put_string(out, text) < 0))
        return -1;
    if (PyErr_Occurred()) return -1;
    return PUT_LITERAL(out, "}");
}

/* quizzes.quiz_attempt */
static int put_quiz_attempt(Render *render, PyObject *body, const Actor *actor, PyObject *app_id) {
    Buffer *out = render->out;
    PyObject *submission = required_id(render, body, S_submission_id);
    if (submission == NULL || PUT_LITERAL(out, "{\"id\":") < 0 || put_prefixed(out, render->program->submission_urn, submission) < 0 ||
        PUT_LITERAL(out, ",\"type\":\"Attempt\",\"extensions\":{") < 0 || put_string(out, render->program->extensions_key) < 0 ||
        PUT_LITERAL(out, ":{\"entity_id\":") < 0 || put_string(out, submission) < 0 || PUT_LITERAL(out, "}}") < 0)
        return -1;
    if (actor_is_person(actor) && (PUT_LITERAL(out, ",\"assignee\":{\"id\":") < 0 || put_actor_id(render, actor, app_id) < 0 ||
                                   PUT_LITERAL(out, ",\"type\":\"Person\"}") < 0))
        return -1;
    PyObject *quiz = optional_id(render, body, S_quiz_id);
    if (quiz != NULL && (PUT_LITERAL(out, ",\"assignable\":{\"id\":") < 0 || put_prefixed(out, render->program->quiz_urn, quiz) < 0 ||
                         PUT_LITERAL(out, ",\"type\":\"Assessment\"}") < 0))
        return -1;
    if (PyErr_Occurred()) return -1;
    return PUT_LITERAL(out, "}");
}

/* sessions.session_application */
static int put_session_application(Render *render, PyObject *body, PyObject *app_id) {
    Buffer *out = render->out;
    if (PUT_LITERAL(out, "{\"id\":") < 0 || put_string(out, app_id) < 0 || PUT_LITERAL(out, ",\"type\":\"SoftwareApplication\"") < 0)
        return -1;
    PyObject *redirect = present(render, body, S_redirect_url);
    if (redirect != NULL && (PUT_LITERAL(out, ",\"extensions\":{") < 0 || put_string(out, render->program->extensions_key) < 0 ||
                             PUT_LITERAL(out, ":{\"redirect_url\":") < 0 || put_value(render, redirect) < 0 ||
                             PUT_LITERAL(out, "}}") < 0))
        return -1;
    if (PyErr_Occurred()) return -1;
    return PUT_LITERAL(out, "}");
}

static int put_object(Render *render, PyObject *op, PyObject *metadata, PyObject *body, const Actor *actor, PyObject *app_id) {
    switch (PyLong_AsLong(PyTuple_GET_ITEM(op, 0))) {
        case OBJECT_SHAPE:
            return put_shape(render, body, op, 1);
        case OBJECT_ASSET:
            return put_asset(render, metadata, body);
        case OBJECT_SYLLABUS:
            return put_syllabus(render, body, actor, app_id);
        case OBJECT_QUIZ_ATTEMPT:
            return put_quiz_attempt(render, body, actor, app_id);
        case OBJECT_SESSION_APP:
            return put_session_application(render, body, app_id);
        case OBJECT_GRADED_SCORE: { /* grading.graded_score: the Score, scoredBy the grader or Canvas */
            if (put_shape(render, body, PyTuple_GET_ITEM(op, 1), 0) < 0) return -1;
            PyObject *grader = optional_id(render, body, S_grader_id);
            if (grader == NULL && PyErr_Occurred()) return -1;
            if (PUT_LITERAL(render->out, ",\"scoredBy\":") < 0 ||
                (grader == NULL ? put_string(render->out, app_id) : put_prefixed(render->out, render->program->user_urn, grader)) < 0)
                return -1;
            return PUT_LITERAL(render->out, "}");
        }
    }
    PyErr_SetString(PyExc_ValueError, "unknown object op");
    return -1;
}

/* ---------------------------------------------------------------- group and membership */

typedef struct {
    PyObject *course_id;  /* NULL: no group and no membership */
    PyObject *section_id; /* a CourseSection in that course */
    int has_group;        /* syllabus_updated: a membership, no group */
} Context;

static int find_context(Render *render, long source, PyObject *metadata, PyObject *body, Context *context) {
    context->course_id = context->section_id = NULL;
    context->has_group = 1;
    if (source == CONTEXT_METADATA || source == CONTEXT_BODY) {
        PyObject *where = source == CONTEXT_BODY ? body : metadata;
        PyObject *type = present(render, where, S_context_type);
        if (type != NULL && !PyUnicode_CheckExact(type) && PyUnicode_Check(type)) {
            /* A str subclass (an enum, say) may equal "Course" by its own rules: the Python path decides. */
            PyErr_SetString(PyExc_ValueError, "context_type: not a plain str");
            return -1;
        }
        if (type == NULL || !PyUnicode_CheckExact(type) || PyUnicode_Compare(type, S_Course) != 0) return PyErr_Occurred() ? -1 : 0;
        context->course_id = optional_id(render, where, S_context_id);
    } else if (source == CONTEXT_ENROLLMENT_SECTION) {
        context->course_id = optional_id(render, body, S_course_id);
        if (context->course_id != NULL)
            context->section_id = optional_id(render, body, S_course_section_id);
    } else {
        context->course_id = optional_id(render, body, S_course_id);
        context->has_group = 0;
    }
    return PyErr_Occurred() ? -1 : 0;
}

/* The group's or organization's id: the course URN, or the section's. */
static int put_context_id(Render *render, const Context *context) {
    Buffer *out = render->out;
    if (PUT_LITERAL(out, "\"") < 0 || put_text(out, render->program->course_urn) < 0 || put_text(out, context->course_id) < 0) return -1;
    if (context->section_id != NULL && (put_text(out, render->program->section_infix) < 0 || put_text(out, context->section_id) < 0)) return -1;
    return PUT_LITERAL(out, "\"");
}

static int put_group(Render *render, const Context *context) {
    Buffer *out = render->out;
    if (PUT_LITERAL(out, ",\"group\":{\"id\":") < 0 || put_context_id(render, context) < 0) return -1;
    if ((context->section_id ? PUT_LITERAL(out, ",\"type\":\"CourseSection\"") : PUT_LITERAL(out, ",\"type\":\"CourseOffering\"")) < 0)
        return -1;
    if (PUT_LITERAL(out, ",\"extensions\":{") < 0 || put_string(out, render->program->extensions_key) < 0 ||
        PUT_LITERAL(out, ":{\"context_type\":\"Course\",\"entity_id\":") < 0 || put_string(out, context->course_id) < 0)
        return -1;
    return PUT_LITERAL(out, "}}}");
}

/* context.Memberships */
static int put_membership(Render *render, const Context *context, PyObject *member_id, PyObject *metadata) {
    Buffer *out = render->out;
    PyObject *role = present(render, metadata, S_context_role);
    PyObject *mapped = NULL;
    if (role != NULL && PyUnicode_CheckExact(role)) mapped = PyDict_GetItemWithError(render->program->roles, role);
    if (PyErr_Occurred()) return -1;
    /* "<organization id>:<role segment or user>:<user id>" */
    if (PUT_LITERAL(out, ",\"membership\":{\"id\":") < 0 || put_context_id(render, context) < 0) return -1;
    out->length -= 1; /* reopen the id's closing quote */
    if (PUT_LITERAL(out, ":") < 0 || (mapped ? put_text(out, PyTuple_GET_ITEM(mapped, 0)) : PUT_LITERAL(out, "user")) < 0 ||
        PUT_LITERAL(out, ":") < 0 || put_text(out, member_id) < 0 || PUT_LITERAL(out, "\"") < 0)
        return -1;
    if (PUT_LITERAL(out, ",\"type\":\"Membership\",\"member\":{\"id\":") < 0 || put_prefixed(out, render->program->user_urn, member_id) < 0 ||
        PUT_LITERAL(out, ",\"type\":\"Person\"},\"organization\":{\"id\":") < 0 || put_context_id(render, context) < 0)
        return -1;
    if (context->section_id != NULL) {
        if (PUT_LITERAL(out, ",\"type\":\"CourseSection\",\"subOrganizationOf\":{\"id\":") < 0 ||
            put_prefixed(out, render->program->course_urn, context->course_id) < 0 || PUT_LITERAL(out, ",\"type\":\"CourseOffering\"}}") < 0)
            return -1;
    } else if (PUT_LITERAL(out, ",\"type\":\"CourseOffering\"}") < 0) {
        return -1;
    }
    if (mapped != NULL) {
        PyObject *roles = PyTuple_GET_ITEM(mapped, 1);
        if (PUT_LITERAL(out, ",\"roles\":[") < 0) return -1;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(roles); i++) {
            if ((i && PUT_LITERAL(out, ",") < 0) || put_string(out, PyTuple_GET_ITEM(roles, i)) < 0) return -1;
        }
        if (PUT_LITERAL(out, "]") < 0) return -1;
    }
    return PUT_LITERAL(out, "}");
}

/* ---------------------------------------------------------------- the event */

/* A URL as sent: access_token values blanked (redaction.redact_url) when the transformer redacts. */
static PyObject *shown_url(Render *render, PyObject *url) {
    if (!render->program->redact || !PyUnicode_CheckExact(url)) return url;
    int found = PyUnicode_Contains(url, render->program->token_parameter);
    if (found < 0) return NULL;
    if (!found) return url;
    return own(render, PyObject_CallOneArg(render->program->redact_url, url));
}

/* OpenSSL's SHA-256, the one hashlib runs, called directly: hashlib.sha256(data).digest() costs
 * as much again in set-up as the hashing of a Canvas record.  Looked up in the libcrypto
 * hashlib has loaded; where it is not found, hashlib is called. */
typedef int (*Sha256Init)(void *context);
typedef int (*Sha256Update)(void *context, const void *data, size_t size);
typedef int (*Sha256Final)(unsigned char *digest, void *context);
static Sha256Init sha256_init;
static Sha256Update sha256_update;
static Sha256Final sha256_final;

static void find_openssl_sha256(void) {
    static const char *names[] = {"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        void *library = dlopen(names[i], RTLD_NOW | RTLD_NOLOAD);
        if (library == NULL) continue;
        sha256_init = (Sha256Init)dlsym(library, "SHA256_Init");
        sha256_update = (Sha256Update)dlsym(library, "SHA256_Update");
        sha256_final = (Sha256Final)dlsym(library, "SHA256_Final");
        if (sha256_init && sha256_update && sha256_final) return;
        sha256_init = NULL;
    }
}

/* SHA-256 of data into digest[32]. */
static int hash_sha256(Render *render, PyObject *data, unsigned char *digest) {
    if (sha256_init != NULL) {
        _Alignas(16) unsigned char context[256]; /* SHA256_CTX is 112 bytes */
        if (sha256_init(context) && sha256_update(context, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data)) &&
            sha256_final(digest, context))
            return 0;
    }
    PyObject *hash = PyObject_CallOneArg(render->program->sha256, data);
    if (hash == NULL) return -1;
    PyObject *bytes = PyObject_CallMethodNoArgs(hash, S_digest);
    Py_DECREF(hash);
    if (bytes == NULL) return -1;
    int ok = PyBytes_Check(bytes) && PyBytes_GET_SIZE(bytes) == 32;
    if (ok) memcpy(digest, PyBytes_AS_STRING(bytes), 32);
    Py_DECREF(bytes);
    if (!ok) PyErr_SetString(PyExc_ValueError, "sha256 digest");
    return ok ? 0 : -1;
}

static PyObject *event_id_of(Render *render, PyObject *metadata, PyObject *body) {
    static const char hex[] = "0123456789abcdef";
    PyObject *canonical = PyDict_New();
    if (canonical == NULL) return NULL;
    PyObject *json = NULL, *result = NULL;
    unsigned char d[32];
    if (PyDict_SetItem(canonical, S_metadata, metadata) < 0 || PyDict_SetItem(canonical, S_body, body) < 0) goto done;
    PyObject *arguments[2] = {canonical, render->program->sort_keys};
    json = PyObject_Vectorcall(render->program->dumps, arguments, 1, S_keywords);
    if (json == NULL || !PyBytes_Check(json) || hash_sha256(render, json, d) < 0) goto done;
    /* the first 128 bits, version 4 and RFC 4122 variant bits set (record._event_id) */
    char text[36];
    int position = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text[position++] = '-';
        int high = d[i] >> 4, low = d[i] & 15;
        if (i == 6) high = 4;
        if (i == 8) high = 8 | (high & 3);
        text[position++] = hex[high];
        text[position++] = hex[low];
    }
    result = own(render, PyUnicode_FromStringAndSize(text, 36));
done:
    Py_DECREF(canonical);
    Py_XDECREF(json);
    return result;
}

static int put_event(Render *render, PyObject *metadata, PyObject *body, PyObject *event_time, PyObject *event_id, PyObject *send_time,
                     PyObject *event) {
    Program *program = render->program;
    Buffer *out = render->out;

    PyObject *hostname = present(render, metadata, S_hostname), *origin;
    if (hostname == NULL) {
        if (PyErr_Occurred()) return -1;
        origin = program->job_origin;
    } else {
        if (!PyUnicode_CheckExact(hostname)) return -1;
        /* A strong reference: another thread's Origins.__missing__ may replace the cached entry
         * (freeing it) while this one runs Python code. */
        origin = PyDict_GetItemWithError(program->origins, hostname);
        if (origin != NULL) origin = own(render, Py_NewRef(origin));
        else if (!PyErr_Occurred()) origin = own(render, PyObject_CallOneArg(program->origin_of, hostname));
        if (origin == NULL) return -1;
    }
    PyObject *app_id = PyTuple_GET_ITEM(origin, 0), *sensor = PyTuple_GET_ITEM(origin, 1);

    Actor actor;
    if (find_actor(render, PyLong_AsLong(PyTuple_GET_ITEM(event, 5)), metadata, body, &actor) < 0) return -1;

    if (PUT_LITERAL(out, "{\"sensor\":") < 0 || put_string(out, sensor) < 0 || PUT_LITERAL(out, ",\"sendTime\":") < 0 ||
        put_string(out, send_time) < 0 || PUT_LITERAL(out, ",\"dataVersion\":") < 0 || put_string(out, program->context) < 0 ||
        PUT_LITERAL(out, ",\"data\":[{\"@context\":") < 0 || put_string(out, program->context) < 0 ||
        PUT_LITERAL(out, ",\"id\":\"urn:uuid:") < 0 || put_text(out, event_id) < 0 || PUT_LITERAL(out, "\",\"type\":") < 0 ||
        put_string(out, PyTuple_GET_ITEM(event, 0)) < 0 || PUT_LITERAL(out, ",\"actor\":") < 0 ||
        put_actor(render, &actor, metadata, app_id) < 0 || PUT_LITERAL(out, ",\"action\":") < 0 ||
        put_string(out, PyTuple_GET_ITEM(event, 1)) < 0 || PUT_LITERAL(out, ",\"object\":") < 0 ||
        put_object(render, PyTuple_GET_ITEM(event, 2), metadata, body, &actor, app_id) < 0 ||
        PUT_LITERAL(out, ",\"eventTime\":") < 0 || put_string(out, event_time) < 0)
        return -1;
    PyObject *generated = PyTuple_GET_ITEM(event, 3);
    if (generated != Py_None &&
        (PUT_LITERAL(out, ",\"generated\":") < 0 || put_object(render, generated, metadata, body, &actor, app_id) < 0))
        return -1;
    PyObject *referrer = present(render, metadata, S_referrer);
    if (referrer != NULL && PyUnicode_CheckExact(referrer)) {
        if ((referrer = shown_url(render, referrer)) == NULL || PUT_LITERAL(out, ",\"referrer\":") < 0 || put_string(out, referrer) < 0)
            return -1;
    }
    if (PyErr_Occurred() || PUT_LITERAL(out, ",\"edApp\":{\"id\":") < 0 || put_string(out, app_id) < 0 ||
        PUT_LITERAL(out, ",\"type\":\"SoftwareApplication\"}") < 0)
        return -1;

    Context context;
    if (find_context(render, PyLong_AsLong(PyTuple_GET_ITEM(event, 4)), metadata, body, &context) < 0) return -1;
    if (context.course_id != NULL) {
        if (context.has_group && put_group(render, &context) < 0) return -1;
        if (actor.member_id != NULL && put_membership(render, &context, actor.member_id, metadata) < 0) return -1;
    }

    PyObject *session = present(render, metadata, S_session_id);
    if (session != NULL) {
        if ((session = id_text(render, session)) == NULL || PUT_LITERAL(out, ",\"session\":") < 0 ||
            PUT_LITERAL(out, "{\"id\":") < 0 || put_prefixed(out, render->program->session_urn, session) < 0 ||
            PUT_LITERAL(out, ",\"type\":\"Session\"}") < 0)
            return -1;
    } else if (PyErr_Occurred()) {
        return -1;
    }

    /* origin.event_extensions */
    int first = 1;
    if (PUT_LITERAL(out, ",\"extensions\":{") < 0 || put_string(out, render->program->extensions_key) < 0 || PUT_LITERAL(out, ":{") < 0 ||
        put_present(render, metadata, program->request_fields, &first) < 0)
        return -1;
    PyObject *url = present(render, metadata, S_url);
    if (url != NULL) {
        if ((url = shown_url(render, url)) == NULL || put_key(out, S_request_url, &first) < 0 || put_value(render, url) < 0) return -1;
    } else if (PyErr_Occurred()) {
        return -1;
    }
    if (put_present(render, metadata, program->job_fields, &first) < 0 || put_key(out, S_version, &first) < 0 ||
        put_string(out, program->version) < 0)
        return -1;
    return PUT_LITERAL(out, "}}}]}");
}

/* ---------------------------------------------------------------- entry points */

static PyObject *render(PyObject *program_tuple, PyObject *metadata, PyObject *body, PyObject *event_time, PyObject *event_id,
                        PyObject *send_time, int private_record) {
    Program program;
    if (program_read(&program, program_tuple) < 0) return NULL;
    if (!PyUnicode_CheckExact(send_time)) {
        PyErr_SetString(PyExc_TypeError, "send_time: expected str");
        return NULL;
    }
    Buffer out;
    buffer_init(&out);
    Render state = {.program = &program, .out = &out, .owned_count = 0, .private_record = private_record};
    PyObject *result = NULL;

    PyObject *event_name = PyDict_GetItemWithError(metadata, S_event_name);
    PyObject *event = event_name != NULL && PyUnicode_CheckExact(event_name) ? PyDict_GetItemWithError(program.events, event_name) : NULL;
    if (event == NULL) goto done;
    if (event_time == Py_None) {
        event_time = PyDict_GetItemWithError(metadata, S_event_time);
        if (event_time == NULL || !PyUnicode_CheckExact(event_time) || own(&state, Py_NewRef(event_time)) == NULL) goto done;
        if (!is_canonical_time(event_time) &&
            (event_time = own(&state, PyObject_CallOneArg(program.normalize_timestamp, event_time))) == NULL)
            goto done;
    }
    if (event_id == Py_None && (event_id = event_id_of(&state, metadata, body)) == NULL) goto done;
    if (put_event(&state, metadata, body, event_time, event_id, send_time, event) < 0) goto done;
    result = PyBytes_FromStringAndSize(out.data, out.length);

done:
    for (int i = 0; i < state.owned_count; i++) Py_DECREF(state.owned[i]);
    buffer_free(&out);
    if (result != NULL) return result;
    /* Anything the Python path should answer (or refuse, naming field, value and rule): None. */
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) return NULL;
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(render_record_doc,
"render_record(program, record, send_time) -> bytes | None\n\n"
"The envelope JSON of a decoded raw record, or None where the Python path must answer.");

static PyObject *render_decoded(PyObject *program, PyObject *record, PyObject *send_time, int private_record) {
    /* record.parse_record's fast path: {"attributes"|"metadata": {...}, "body": {...}} */
    if (!PyDict_CheckExact(record) || PyDict_GET_SIZE(record) != 2) Py_RETURN_NONE;
    PyObject *body = PyDict_GetItemWithError(record, S_body);
    PyObject *metadata = PyDict_GetItemWithError(record, S_attributes);
    if (metadata == NULL && !PyErr_Occurred()) metadata = PyDict_GetItemWithError(record, S_metadata);
    if (PyErr_Occurred()) return NULL;
    if (body == NULL || metadata == NULL || !PyDict_CheckExact(body) || !PyDict_CheckExact(metadata)) Py_RETURN_NONE;
    /* Held for the render, as the values in them are (present). */
    Py_INCREF(body);
    Py_INCREF(metadata);
    PyObject *result = render(program, metadata, body, Py_None, Py_None, send_time, private_record);
    Py_DECREF(body);
    Py_DECREF(metadata);
    return result;
}

static PyObject *render_record(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "render_record(program, record, send_time)");
        return NULL;
    }
    return render_decoded(args[0], args[1], args[2], 0);
}

PyDoc_STRVAR(render_bytes_doc,
"render_bytes(program, raw, send_time) -> bytes | None\n\n"
"The envelope JSON of a raw record's JSON text, or None where the Python path must answer.");

static PyObject *render_bytes(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    Program program;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "render_bytes(program, raw, send_time)");
        return NULL;
    }
    if (program_read(&program, args[0]) < 0) return NULL;
    PyObject *record = PyObject_CallOneArg(program.loads, args[1]);
    if (record == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) return NULL;
        PyErr_Clear(); /* not JSON: the Python path names the error */
        Py_RETURN_NONE;
    }
    PyObject *result = render_decoded(args[0], record, args[2], 1);
    Py_DECREF(record);
    return result;
}

PyDoc_STRVAR(render_event_doc,
"render_event(program, metadata, body, event_time, event_id, send_time) -> bytes | None\n\n"
"The envelope JSON of a parsed event (its normalised time and id, if known), or None.");

static PyObject *render_event(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "render_event(program, metadata, body, event_time, event_id, send_time)");
        return NULL;
    }
    if (!PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[2]) || (args[3] != Py_None && !PyUnicode_CheckExact(args[3])) ||
        (args[4] != Py_None && !PyUnicode_CheckExact(args[4])))
        Py_RETURN_NONE;
    return render(args[0], args[1], args[2], args[3], args[4], args[5], 0);
}

static PyMethodDef methods[] = {
    {"render_record", (PyCFunction)(void (*)(void))render_record, METH_FASTCALL, render_record_doc},
    {"render_bytes", (PyCFunction)(void (*)(void))render_bytes, METH_FASTCALL, render_bytes_doc},
    {"render_event", (PyCFunction)(void (*)(void))render_event, METH_FASTCALL, render_event_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "liveevents.caliper._native",
    "The Caliper envelope written straight to JSON bytes (see native.py).", -1, methods,
};

static int intern(PyObject **name, const char *text) {
    *name = PyUnicode_InternFromString(text);
    return *name == NULL ? -1 : 0;
}

PyMODINIT_FUNC PyInit__native(void) {
    if (intern(&S_body, "body") || intern(&S_attributes, "attributes") || intern(&S_metadata, "metadata") ||
        intern(&S_event_name, "event_name") || intern(&S_event_time, "event_time") || intern(&S_hostname, "hostname") ||
        intern(&S_request_id, "request_id") || intern(&S_user_id, "user_id") || intern(&S_real_user_id, "real_user_id") ||
        intern(&S_grader_id, "grader_id") || intern(&S_session_id, "session_id") || intern(&S_referrer, "referrer") ||
        intern(&S_url, "url") || intern(&S_context_type, "context_type") || intern(&S_context_id, "context_id") ||
        intern(&S_context_role, "context_role") || intern(&S_course_id, "course_id") ||
        intern(&S_course_section_id, "course_section_id") || intern(&S_asset_type, "asset_type") ||
        intern(&S_asset_id, "asset_id") || intern(&S_asset_subtype, "asset_subtype") || intern(&S_asset_name, "asset_name") ||
        intern(&S_submission_id, "submission_id") || intern(&S_quiz_id, "quiz_id") || intern(&S_redirect_url, "redirect_url") ||
        intern(&S_syllabus_body, "syllabus_body") || intern(&S_entity_id, "entity_id") || intern(&S_Course, "Course") ||
        intern(&S_digest, "digest") || intern(&S_option, "option") ||
        intern(&S_version, "version") || intern(&S_empty, "") || intern(&S_request_url, "request_url"))
        return NULL;
    if ((S_keywords = PyTuple_Pack(1, S_option)) == NULL) return NULL;
    find_openssl_sha256();
    PyObject *module = PyModule_Create(&module_definition);
    if (module != NULL && PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0) Py_CLEAR(module);
    return module;
}
