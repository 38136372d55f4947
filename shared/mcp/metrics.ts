// Prometheus text for /metrics: tool calls by server, tool and outcome, and a latency histogram.
const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Prometheus label value escaping: backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Beyond this many series per family, new label sets are folded into tool="unknown". */
const MAX_SERIES = 5_000;

export class Metrics {
  private calls = new Map<string, number>();
  private latency = new Map<string, Histogram>();
  private http = new Map<string, number>();
  /** Tool names each server registered: any other name a caller sends counts as "unknown". */
  private tools = new Map<string, Set<string>>();

  knowTools(server: string, names: string[]): void {
    const set = this.tools.get(server) ?? new Set<string>();
    for (const n of names) set.add(n);
    this.tools.set(server, set);
  }

  recordCall(server: string, toolName: string, outcome: string, ms: number): void {
    const tool = this.tools.get(server)?.has(toolName) && this.calls.size < MAX_SERIES ? toolName : 'unknown';
    const key = `server="${escapeLabel(server)}",tool="${escapeLabel(tool)}",outcome="${escapeLabel(outcome)}"`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const hKey = `server="${escapeLabel(server)}",tool="${escapeLabel(tool)}"`;
    const h = this.latency.get(hKey) ?? { counts: BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
    BUCKETS_MS.forEach((b, i) => {
      if (ms <= b) h.counts[i]!++;
    });
    h.sum += ms / 1000;
    h.count++;
    this.latency.set(hKey, h);
  }

  recordHttp(server: string, status: number): void {
    const key = `server="${escapeLabel(server)}",status="${Math.trunc(status)}"`;
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
  }

  render(server: string, sessions: number): string {
    const mine = (k: string) => k.startsWith(`server="${escapeLabel(server)}"`);
    const lines = [
      '# HELP aibt_tool_calls_total MCP tool calls by server, tool and outcome.',
      '# TYPE aibt_tool_calls_total counter',
      ...[...this.calls].filter(([k]) => mine(k)).map(([k, v]) => `aibt_tool_calls_total{${k}} ${v}`),
      '# HELP aibt_tool_call_duration_seconds Tool call latency.',
      '# TYPE aibt_tool_call_duration_seconds histogram',
    ];
    for (const [k, h] of this.latency) {
      if (!mine(k)) continue;
      BUCKETS_MS.forEach((b, i) => lines.push(`aibt_tool_call_duration_seconds_bucket{${k},le="${b / 1000}"} ${h.counts[i]}`));
      lines.push(`aibt_tool_call_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      lines.push(`aibt_tool_call_duration_seconds_sum{${k}} ${h.sum}`);
      lines.push(`aibt_tool_call_duration_seconds_count{${k}} ${h.count}`);
    }
    lines.push('# HELP aibt_http_responses_total HTTP responses on /mcp by status.', '# TYPE aibt_http_responses_total counter');
    for (const [k, v] of this.http) if (mine(k)) lines.push(`aibt_http_responses_total{${k}} ${v}`);
    lines.push('# HELP aibt_mcp_sessions Open MCP sessions.', '# TYPE aibt_mcp_sessions gauge', `aibt_mcp_sessions{server="${escapeLabel(server)}"} ${sessions}`);
    return lines.join('\n') + '\n';
  }
}
