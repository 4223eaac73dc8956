// Raw HTTP/2 frames, for the tests and the bench that must do what a well-behaved client library
// refuses to (streams that never finish, bursts of resets, GOAWAY while keeping the socket open).
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const SETTINGS = 0x4, HEADERS = 0x1, RST_STREAM = 0x3, GOAWAY = 0x7;
export const END_STREAM = 0x1, END_HEADERS = 0x4;

export function frame(type: number, flags: number, streamId: number, payload = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

// HPACK static table: :method POST (3), :scheme http (6); literal :authority (1) "x" and :path (4).
const SIGN_IN_PATH = Buffer.from("/api/session.setCookie");
/** A sign-in POST's headers without END_STREAM: the body never comes. */
export const openSignIn = (id: number) =>
  frame(HEADERS, END_HEADERS, id, Buffer.concat([Buffer.from([0x83, 0x86, 0x41, 1, 0x78, 0x44, SIGN_IN_PATH.length]), SIGN_IN_PATH]));
