package io.github.lpfanout;

import java.util.Objects;

/** An authorizer's answer: admit the client, or end its request with a refusal. Immutable. */
public final class AuthDecision {
  private static final AuthDecision ALLOW = new AuthDecision(null);

  private final Refusal refusal;

  private AuthDecision(Refusal refusal) {
    this.refusal = refusal;
  }

  /** Admits the client. */
  public static AuthDecision allow() {
    return ALLOW;
  }

  /** Ends the client's request with {@code refusal}, which the client receives as it is. */
  public static AuthDecision deny(Refusal refusal) {
    return new AuthDecision(Objects.requireNonNull(refusal, "refusal"));
  }

  public boolean isAllowed() {
    return refusal == null;
  }

  /** The answer for a denied client; null if the client is allowed. */
  public Refusal refusal() {
    return refusal;
  }

  @Override
  public String toString() {
    return isAllowed() ? "AuthDecision{allow}" : "AuthDecision{deny " + refusal + "}";
  }
}
