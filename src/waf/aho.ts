/**
 * Case-insensitive Aho–Corasick automaton for @pm / @pmFromFile, compiled to a DFA over a
 * reduced alphabet (only the byte values that occur in the phrases get their own column),
 * so matching is one table lookup per input byte with no allocation.
 *
 * The CRS phrase files make tables of up to a few megabytes, larger than the CPU caches, while
 * benign input keeps the automaton near the root: states are numbered breadth-first, so the
 * shallow states that do nearly all the work share a few kilobytes, and entries are 16 bits
 * when the state count allows (it does for every CRS file).
 */
export class AhoCorasick {
  private readonly cls = new Uint8Array(256); // byte -> alphabet column (0 = "other")
  private readonly width: number;
  private readonly next: Uint16Array | Int32Array; // node * width + col -> node
  private readonly out: Int32Array; // node -> index of the longest phrase ending here (or -1)
  readonly phrases: string[];

  constructor(phrases: string[]) {
    const list = [...new Set(phrases.map((p) => p.toLowerCase()).filter((p) => p.length > 0))];
    this.phrases = list;
    let cols = 1;
    for (const p of list) {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i) & 0xff;
        if (this.cls[c] === 0) {
          this.cls[c] = cols++;
          const up = String.fromCharCode(c).toUpperCase().charCodeAt(0);
          if (up !== c && up < 256) this.cls[up] = this.cls[c];
        }
      }
    }
    if (cols > 255) throw new Error('alphabet too large');
    this.width = cols;
    // trie
    const trie: number[][] = [new Array(cols).fill(-1)];
    const outs: number[] = [-1];
    for (let k = 0; k < list.length; k++) {
      const p = list[k];
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const col = this.cls[p.charCodeAt(i) & 0xff];
        let nx = trie[node][col];
        if (nx < 0) {
          nx = trie.length;
          trie.push(new Array(cols).fill(-1));
          outs.push(-1);
          trie[node][col] = nx;
        }
        node = nx;
      }
      outs[node] = k;
    }
    // BFS for failure links, turning the trie into a DFA
    const fail = new Int32Array(trie.length);
    const queue: number[] = [];
    for (let c = 0; c < cols; c++) {
      const nx = trie[0][c];
      if (nx < 0) trie[0][c] = 0;
      else {
        fail[nx] = 0;
        queue.push(nx);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi];
      if (outs[node] < 0 && outs[fail[node]] >= 0) outs[node] = outs[fail[node]];
      for (let c = 0; c < cols; c++) {
        const nx = trie[node][c];
        if (nx < 0) trie[node][c] = trie[fail[node]][c];
        else {
          fail[nx] = trie[fail[node]][c];
          queue.push(nx);
        }
      }
    }
    // breadth-first numbering: the root, then states in the order the BFS reached them
    const order = [0, ...queue];
    const renum = new Int32Array(trie.length);
    for (let k = 0; k < order.length; k++) renum[order[k]] = k;
    this.next = trie.length <= 0xffff ? new Uint16Array(trie.length * cols) : new Int32Array(trie.length * cols);
    this.out = new Int32Array(trie.length);
    for (let k = 0; k < order.length; k++) {
      const row = trie[order[k]];
      for (let c = 0; c < cols; c++) this.next[k * cols + c] = renum[row[c]];
      this.out[k] = outs[order[k]];
    }
  }

  /** Index of the first phrase found (in input order), or -1. */
  search(s: string): number {
    const { cls, next, out, width } = this;
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      node = next[node * width + cls[s.charCodeAt(i) & 0xff]];
      const o = out[node];
      if (o >= 0) return o;
    }
    return -1;
  }
}
