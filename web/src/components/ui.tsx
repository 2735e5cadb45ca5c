// Small building blocks shared by every page: panels, buttons, inputs, tables, badges.
import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

export function Panel(props: { title?: ReactNode; actions?: ReactNode; className?: string; children: ReactNode; testId?: string }) {
  return (
    <section
      data-testid={props.testId}
      className={`flex min-h-0 flex-col rounded border border-edge bg-panel ${props.className ?? ""}`}
    >
      {(props.title || props.actions) && (
        <header className="flex items-center justify-between border-b border-edge px-3 py-1.5">
          <h2 className="text-xs font-semibold uppercase tracking-wide text-zinc-400">{props.title}</h2>
          <div className="flex items-center gap-2">{props.actions}</div>
        </header>
      )}
      <div className="min-h-0 flex-1 overflow-auto">{props.children}</div>
    </section>
  );
}

type Tone = "neutral" | "buy" | "sell" | "danger" | "primary";

const TONES: Record<Tone, string> = {
  neutral: "bg-zinc-800 hover:bg-zinc-700 text-zinc-100",
  primary: "bg-sky-600 hover:bg-sky-500 text-white",
  buy: "bg-emerald-600 hover:bg-emerald-500 text-white",
  sell: "bg-rose-600 hover:bg-rose-500 text-white",
  danger: "bg-rose-700 hover:bg-rose-600 text-white",
};

export function Button({ tone = "neutral", className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { tone?: Tone }) {
  return (
    <button
      {...rest}
      className={`rounded px-2.5 py-1 text-xs font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-50 ${TONES[tone]} ${className ?? ""}`}
    />
  );
}

export function Input({ className, ...rest }: InputHTMLAttributes<HTMLInputElement>) {
  return (
    <input
      {...rest}
      className={`w-full rounded border border-edge bg-zinc-900 px-2 py-1 text-zinc-100 outline-none focus:border-sky-500 aria-invalid:border-rose-500 ${className ?? ""}`}
    />
  );
}

export function Select({ className, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <select
      {...rest}
      className={`w-full rounded border border-edge bg-zinc-900 px-2 py-1 text-zinc-100 outline-none focus:border-sky-500 ${className ?? ""}`}
    />
  );
}

export function Field(props: { label: string; error?: string | null; children: ReactNode }) {
  return (
    <label className="flex flex-col gap-0.5 text-xs text-zinc-400">
      <span>{props.label}</span>
      {props.children}
      {props.error && <span className="text-rose-400">{props.error}</span>}
    </label>
  );
}

export function Badge(props: { tone?: "up" | "down" | "warn" | "muted"; children: ReactNode }) {
  const tones = {
    up: "bg-emerald-500/15 text-emerald-300",
    down: "bg-rose-500/15 text-rose-300",
    warn: "bg-amber-500/15 text-amber-300",
    muted: "bg-zinc-700/40 text-zinc-300",
  };
  return <span className={`rounded px-1.5 py-0.5 text-[11px] font-medium ${tones[props.tone ?? "muted"]}`}>{props.children}</span>;
}

/** A dense table; `head` are the column titles, numeric columns right-aligned by the caller. */
export function Table(props: { head: ReactNode[]; children: ReactNode; testId?: string; empty?: string; rows: number }) {
  return (
    <table data-testid={props.testId} className="w-full border-collapse text-xs">
      <thead className="sticky top-0 bg-panel text-zinc-500">
        <tr>
          {props.head.map((title, index) => (
            <th key={index} className="px-2 py-1 text-left font-medium whitespace-nowrap">
              {title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.children}
        {props.rows === 0 && (
          <tr>
            <td colSpan={props.head.length} className="px-2 py-3 text-center text-zinc-500">
              {props.empty ?? "Nothing yet"}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** A signed amount, green when positive and red when negative. */
export function Signed(props: { value: string | number | null | undefined; children?: ReactNode }) {
  const number = Number(props.value ?? 0);
  const tone = number > 0 ? "text-emerald-400" : number < 0 ? "text-rose-400" : "text-zinc-300";
  return <span className={`num ${tone}`}>{props.children ?? props.value ?? "–"}</span>;
}
