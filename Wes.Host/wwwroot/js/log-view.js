// A log shown in a <pre> that follows the file as it grows: each poll asks only for the bytes after the last ones
// read (an HTTP Range), so a long log costs one small request per poll.
import { api } from './api.js';

const FIRST_BYTES = 256 * 1024;
const KEEP_CHARS = 512 * 1024;

export class LogView {
  constructor(pre) {
    this.pre = pre;
    this.path = null;
    this.offset = null;
    this.decoder = null;
  }

  show(path) {
    this.path = path;
    this.offset = null;
    this.decoder = new TextDecoder();
    this.pre.textContent = '';
    return this.poll();
  }

  async poll() {
    const path = this.path;
    if (!path) return;
    const range = this.offset === null ? `bytes=-${FIRST_BYTES}` : `bytes=${this.offset}-`;
    const response = await api(path, { raw: true, headers: { Range: range } });
    if (path !== this.path) return;
    if (response.status === 416) {
      // Nothing after the offset; a shorter file means it was replaced (a new attempt), so read it again.
      const total = Number((response.headers.get('Content-Range') || '').split('/')[1]);
      if (Number.isFinite(total) && this.offset !== null && total < this.offset) await this.show(path);
      return;
    }
    if (!response.ok) {
      this.pre.textContent = `(${response.status}: this log is not available)`;
      return;
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (response.status === 206) {
      const [, first, last] = /bytes (\d+)-(\d+)/.exec(response.headers.get('Content-Range') || '') || [];
      if (this.offset === null && Number(first) > 0) this.pre.textContent = '… (earlier lines not shown)\n';
      this.offset = Number(last) + 1;
      this.append(this.decoder.decode(bytes, { stream: true }));
    } else {
      // A whole answer (an empty log before the engine starts): start over from it.
      this.pre.textContent = '';
      this.decoder = new TextDecoder();
      this.offset = bytes.length;
      this.append(this.decoder.decode(bytes, { stream: true }));
    }
  }

  append(text) {
    if (!text) return;
    const atBottom = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 4;
    let content = this.pre.textContent + text;
    if (content.length > KEEP_CHARS) content = '… (earlier lines not shown)\n' + content.slice(content.length - KEEP_CHARS);
    this.pre.textContent = content;
    if (atBottom) this.pre.scrollTop = this.pre.scrollHeight;
  }
}
