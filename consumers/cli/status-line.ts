/**
 * One live line at the bottom of a terminal, with log lines written above it. Logs and the
 * progress line share stderr; every write goes through here, so a log line never lands inside
 * the progress line: the line is cleared, the log written, then the line drawn again. On a
 * non-terminal (CI logs, a pipe) the line is printed as its own line now and then instead.
 */
export class StatusLine {
  #current = '';

  constructor(private readonly out: NodeJS.WriteStream) {}

  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  /** Replaces the live line (terminal) or prints it as a line (elsewhere). */
  show(line: string): void {
    if (!this.isTTY) {
      this.out.write(`${line}\n`);
      return;
    }
    this.#current = line;
    this.out.write(`\r\x1b[2K${line}`);
  }

  /** Writes text (whole lines) above the live line. */
  write(text: string): void {
    if (!this.isTTY || this.#current === '') {
      this.out.write(text);
      return;
    }
    this.out.write(`\r\x1b[2K${text}${text.endsWith('\n') ? '' : '\n'}${this.#current}`);
  }

  /** Leaves the last line where it is and moves below it; later writes start on a fresh line. */
  end(): void {
    if (this.isTTY && this.#current !== '') this.out.write('\n');
    this.#current = '';
  }
}
