// The console's websocket: one at a time; after a close, `reconnect` is called with backoff (it checks
// we are still signed in and calls connect(), or retry() if it could not tell).

export class Socket {
  constructor({ onOpen, onMessage, onClose, reconnect }) {
    this.handlers = { onOpen, onMessage, onClose, reconnect };
    this.ws = null;
    this.backoff = 500;
    this.timer = null;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => { this.backoff = 500; this.handlers.onOpen(); };
    ws.onmessage = (e) => this.handlers.onMessage(e.data);
    ws.onclose = () => {
      if (this.ws !== ws) return; // an old socket we already replaced
      this.ws = null;
      this.handlers.onClose();
      this.retry();
    };
  }

  /** Call `reconnect` later (a dropped socket, or a failed check that we are still signed in). */
  retry() {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.handlers.reconnect, this.backoff);
    this.backoff = Math.min(this.backoff * 2, 8000);
  }

  get open() { return this.ws?.readyState === WebSocket.OPEN; }

  send(message) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Close for good (signed out): no reconnect. */
  stop() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
  }
}
