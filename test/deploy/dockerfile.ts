import { readFileSync } from 'node:fs';

/** One stage of a Dockerfile, with the instructions the container test replays. */
export interface DockerStage {
  readonly name: string | undefined;
  readonly from: string;
  readonly workdir: string | undefined;
  /** `COPY [--from=stage] <src>... <dest>`. */
  readonly copies: readonly {
    readonly from?: string;
    readonly sources: readonly string[];
    readonly dest: string;
  }[];
  readonly runs: readonly string[];
  /** Exec-form (JSON array) instructions only: a shell form would not pass signals on. */
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly healthcheck?: readonly string[];
  readonly user?: string;
  readonly stopSignal?: string;
}

const execForm = (text: string, what: string): string[] => {
  const json = text.slice(text.indexOf('['));
  try {
    const parsed = JSON.parse(json) as unknown;
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
  } catch {}
  throw new Error(`Dockerfile: ${what} is not in exec form (a JSON array): ${text}`);
};

/** The stages of a Dockerfile (continuation lines joined, comments dropped), in order. */
export const parseDockerfile = (file: string): DockerStage[] => {
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: {
    -readonly [K in keyof DockerStage]: K extends 'copies' | 'runs'
      ? DockerStage[K][number][]
      : DockerStage[K];
  }[] = [];
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const stage = stages[stages.length - 1];
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
        stages.push({ from: m?.[1] ?? args, name: m?.[2], workdir: undefined, copies: [], runs: [] });
        break;
      }
      case 'WORKDIR':
        if (stage) stage.workdir = args;
        break;
      case 'COPY': {
        const parts = rest.filter((p) => !p.startsWith('--') || p.startsWith('--from='));
        const from = parts[0]?.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : undefined;
        const dest = parts.pop()!;
        stage?.copies.push({ from, sources: parts, dest });
        break;
      }
      case 'RUN':
        stage?.runs.push(args);
        break;
      case 'ENTRYPOINT':
        if (stage) stage.entrypoint = execForm(args, 'ENTRYPOINT');
        break;
      case 'CMD':
        if (stage) stage.cmd = execForm(args, 'CMD');
        break;
      case 'HEALTHCHECK':
        if (stage) stage.healthcheck = execForm(args.slice(args.indexOf('CMD') + 3), 'HEALTHCHECK CMD');
        break;
      case 'USER':
        if (stage) stage.user = args;
        break;
      case 'STOPSIGNAL':
        if (stage) stage.stopSignal = args;
        break;
    }
  }
  return stages;
};
