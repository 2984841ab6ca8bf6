/**
 * What clients send: limits (frame rate and size), decoding (JSON or
 * MessagePack), chunk reassembly, and the dispatch of each frame to the hub.
 * Bad input gets an `error` frame and the connection stays; only limit breaches
 * close it.
 *
 * @module
 */
import { publishRefusal } from "../auth/publish_check.ts";
import type { Envelope } from "../bus/bus.ts";
import type { KeyedRateLimiter } from "../limits/keyed_rate_limiter.ts";
import { CloseCode } from "../protocol/codes.ts";
import { encodeAck, encodePong, utf8Length } from "../protocol/encode.ts";
import type { ChunkedFrame, ClientFrame, SubscribeFrame } from "../protocol/frames.ts";
import {
  parseClientFrame,
  parseClientValue,
  type PublishInput,
  publishInputOf,
} from "../protocol/parse.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import type { ClientSession } from "./client_session.ts";
import type { HubCounters } from "./hub_counters.ts";
import type { InboundReassembly } from "./inbound_reassembly.ts";

/** What the inbound side asks of the hub. */
export interface HubActions {
  subscribe(session: ClientSession, frame: SubscribeFrame): void;
  unsubscribe(session: ClientSession, topic: string): void;
  publish(inputs: readonly PublishInput[]): Promise<Envelope[]>;
  /** Queues a control frame for the session. */
  control(session: ClientSession, frame: string): void;
  /** Answers with an `error` frame. */
  reject(session: ClientSession, err: unknown): void;
  close(session: ClientSession, code: number, reason: string): void;
  /** Flow control may allow writing again (after a pong). */
  wake(session: ClientSession): void;
  /**
   * Decodes a binary frame in the session's codec (MessagePack).
   *
   * @throws {ProtocolError} `bad_json` when it does not decode, or the session speaks JSON.
   */
  decodeBinary(session: ClientSession, bytes: Uint8Array): unknown;
}

/** Limits on what one connection sends. */
export interface InboundLimits {
  /** Largest frame; larger closes with 1009. */
  maxInboundBytes: number;
  /** Frames per second (for the close reason; the bucket lives on the session). */
  maxInboundRate: number;
  /** Publish rate per identity, shared with the HTTP API. */
  publishLimiter: KeyedRateLimiter | undefined;
}

/** Handles every inbound frame of every session of one hub. */
export class Inbound {
  readonly #hub: HubActions;
  readonly #limits: InboundLimits;
  readonly #reassembly: InboundReassembly;
  readonly #counters: HubCounters;

  constructor(
    hub: HubActions,
    limits: InboundLimits,
    reassembly: InboundReassembly,
    counters: HubCounters,
  ) {
    this.#hub = hub;
    this.#limits = limits;
    this.#reassembly = reassembly;
    this.#counters = counters;
  }

  /** Handles one inbound message. */
  receive(session: ClientSession, data: string | Uint8Array): void {
    if (session.closed) return;
    this.#counters.framesReceived++;
    if (session.inbound && !session.inbound.take()) {
      this.#counters.reject("inbound_rate");
      this.#hub.close(
        session,
        CloseCode.PolicyViolation,
        `inbound rate limit exceeded: more than ${this.#limits.maxInboundRate} frames/s (--max-inbound-rate)`,
      );
      return;
    }
    const max = this.#limits.maxInboundBytes;
    const size = typeof data === "string"
      ? (data.length * 3 <= max ? data.length : utf8Length(data))
      : data.byteLength;
    if (size > max) {
      this.#counters.oversizeFrames++;
      this.#hub.close(
        session,
        CloseCode.MessageTooBig,
        `frame of ${size} bytes exceeds --max-inbound-bytes ${max}`,
      );
      return;
    }
    if (typeof data !== "string" && session.codec !== "msgpack") {
      this.#hub.reject(
        session,
        new ProtocolError(
          "invalid_frame",
          "Binary frames are not accepted; send JSON text frames, or connect with the floodgate.v1.msgpack subprotocol",
        ),
      );
      return;
    }
    const frame = this.#parse(session, data);
    if (frame === undefined) return;
    if (frame.type.startsWith("chunked.")) this.#reassemble(session, frame as ChunkedFrame);
    else this.#dispatch(session, frame);
  }

  /** Refuses inbound chunked messages that waited too long; call from the heartbeat. */
  expire(session: ClientSession, now: number): void {
    for (const err of this.#reassembly.expire(session, now)) {
      this.#counters.chunkedRefused++;
      this.#hub.reject(session, err);
    }
  }

  /** Parses JSON text or MessagePack bytes; answers an `error` frame and returns undefined when invalid. */
  #parse(session: ClientSession, data: string | Uint8Array): ClientFrame | undefined {
    try {
      return typeof data === "string"
        ? parseClientFrame(data)
        : parseClientValue(this.#hub.decodeBinary(session, data));
    } catch (err) {
      this.#hub.reject(session, err);
      return undefined;
    }
  }

  /** Feeds a chunked frame to the session's assembler; handles the whole message once complete. */
  #reassemble(session: ClientSession, frame: ChunkedFrame): void {
    let whole: string | Uint8Array | undefined;
    try {
      whole = this.#reassembly.push(session, frame);
    } catch (err) {
      this.#counters.chunkedRefused++;
      this.#hub.reject(session, err);
      return;
    }
    if (whole === undefined) return;
    this.#counters.chunkedReceived++;
    const inner = this.#parse(session, whole);
    if (inner === undefined) return;
    if (inner.type.startsWith("chunked.")) {
      this.#hub.reject(
        session,
        new ProtocolError("invalid_frame", "A chunked message cannot itself be a chunked frame"),
      );
      return;
    }
    this.#dispatch(session, inner);
  }

  /** Bytes of unfinished chunked messages held for all clients. */
  get reassemblyBytes(): number {
    return this.#reassembly.heldBytes;
  }

  #dispatch(session: ClientSession, frame: ClientFrame): void {
    switch (frame.type) {
      case "subscribe":
        this.#hub.subscribe(session, frame);
        return;
      case "unsubscribe":
        for (const topic of frame.topics) this.#hub.unsubscribe(session, topic);
        return;
      case "publish":
        this.#publish(session, frame);
        return;
      case "ping":
        this.#hub.control(session, encodePong(frame.id));
        return;
      case "pong":
        // Only protocol-aware clients are sent `ping {id}`; a plain one's pongs are RFC 6455 frames.
        if (session.progressKind === "app-ping" && session.onPong(frame.id, Date.now())) {
          this.#hub.wake(session);
        }
        return;
    }
  }

  #publish(session: ClientSession, frame: Extract<ClientFrame, { type: "publish" }>): void {
    const refusal = publishRefusal(session.permissions, frame.topic, frame.id);
    if (refusal) {
      this.#counters.reject("forbidden");
      this.#hub.reject(session, refusal);
      return;
    }
    const waitMs = this.#limits.publishLimiter?.take(session.permissions.identity) ?? 0;
    if (waitMs > 0) {
      this.#counters.reject("rate_limited");
      this.#hub.reject(
        session,
        new ProtocolError(
          "rate_limited",
          `Publish rate limit reached (--publish-rate); retry in ${waitMs} ms`,
          { id: frame.id },
        ),
      );
      return;
    }
    this.#hub.publish([publishInputOf(frame)]).then(
      ([env]) => {
        if (frame.id !== undefined) this.#hub.control(session, encodeAck(frame.id, env.seq));
      },
      (err) => this.#hub.reject(session, err),
    );
  }
}
