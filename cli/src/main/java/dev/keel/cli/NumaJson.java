package dev.keel.cli;

import java.util.Map;

/**
 * A minimal JSON writer for {@code keel numa --json}: objects, arrays, strings, numbers,
 * booleans and null, written in order with the commas placed for the caller.
 */
final class NumaJson {
    private final StringBuilder sb = new StringBuilder();
    // Whether the current container already holds a value (so the next one needs a comma).
    private final java.util.ArrayDeque<Boolean> hasValue = new java.util.ArrayDeque<>();
    // A key was just written: the next value belongs to it and takes no comma.
    private boolean pendingKey;

    NumaJson beginObject() {
        value();
        sb.append('{');
        hasValue.push(false);
        return this;
    }

    NumaJson endObject() {
        hasValue.pop();
        sb.append('}');
        return this;
    }

    NumaJson beginArray() {
        value();
        sb.append('[');
        hasValue.push(false);
        return this;
    }

    NumaJson endArray() {
        hasValue.pop();
        sb.append(']');
        return this;
    }

    /** The key of the next value in the current object. */
    NumaJson name(String key) {
        value();
        string(key);
        sb.append(':');
        pendingKey = true;
        return this;
    }

    NumaJson value(String s) {
        value();
        if (s == null) {
            sb.append("null");
        } else {
            string(s);
        }
        return this;
    }

    NumaJson value(long n) {
        value();
        sb.append(n);
        return this;
    }

    NumaJson value(boolean b) {
        value();
        sb.append(b);
        return this;
    }

    NumaJson nullValue() {
        value();
        sb.append("null");
        return this;
    }

    NumaJson ints(int[] values) {
        beginArray();
        for (int v : values) {
            value(v);
        }
        return endArray();
    }

    NumaJson longsByKey(Map<Integer, Long> values) {
        beginObject();
        values.forEach((k, v) -> name(Integer.toString(k)).value(v));
        return endObject();
    }

    private void value() {
        if (pendingKey) {
            pendingKey = false;
            return;
        }
        if (!hasValue.isEmpty()) {
            if (hasValue.peek()) {
                sb.append(',');
            }
            hasValue.pop();
            hasValue.push(true);
        }
    }

    private void string(String s) {
        Json.string(sb, s);
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
