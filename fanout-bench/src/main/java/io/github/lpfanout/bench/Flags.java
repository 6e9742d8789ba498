package io.github.lpfanout.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name=value} arguments, each name known in advance; {@code --name} alone means true. */
final class Flags {
  private final Map<String, String> values = new LinkedHashMap<>();

  Flags(String[] args, Set<String> known) {
    for (String arg : args) {
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("not a --flag: " + arg);
      }
      int equals = arg.indexOf('=');
      String name = equals < 0 ? arg.substring(2) : arg.substring(2, equals);
      String value = equals < 0 ? "true" : arg.substring(equals + 1);
      if (!known.contains(name)) {
        throw new IllegalArgumentException("unknown flag --" + name);
      }
      values.put(name, value);
    }
  }

  String string(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  int integer(String name, int fallback) {
    String value = values.get(name);
    try {
      return value == null ? fallback : Integer.parseInt(value.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number: " + value);
    }
  }

  double decimal(String name, double fallback) {
    String value = values.get(name);
    try {
      return value == null ? fallback : Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number: " + value);
    }
  }

  boolean bool(String name) {
    return Boolean.parseBoolean(values.getOrDefault(name, "false"));
  }

  List<String> list(String name, String fallback) {
    String value = values.getOrDefault(name, fallback);
    return value.isBlank() ? List.of() : List.of(value.split(","));
  }

  List<Integer> integers(String name, String fallback) {
    return list(name, fallback).stream().map(s -> Integer.parseInt(s.trim().replace("_", "")))
        .toList();
  }
}
