// Purchase history: filter by status, meter and dates; "load more" pages through the cursor.
import { useEffect, useState } from "preact/hooks";
import { useClient, useQuery } from "@urql/preact";
import type { CombinedError } from "@urql/core";
import { BuyOptionsQuery, HistoryQuery, MeterHistoryQuery } from "../api/operations";
import type { PurchaseStatus } from "../gql/graphql";
import { href } from "../route";
import { formatDateTime, formatKwh, formatRupiah, t, type MessageKey } from "../i18n";
import { ErrorAlert, Loading, PageTitle, StatusBadge } from "../ui/components";

export interface PurchaseSummary {
  id: string;
  createdAt: string;
  status: string;
  meterNumber: string;
  holderName: string;
  denomination: string;
  totalPaid: string;
  kwh: string;
}

export function PurchaseList({ purchases }: { purchases: readonly PurchaseSummary[] }) {
  if (purchases.length === 0) return <p>{t("noPurchases")}</p>;
  return (
    <ul class="purchases">
      {purchases.map((p) => (
        <li key={p.id} class="purchase">
          <a href={href(`/purchase/${encodeURIComponent(p.id)}`)}>
            <span class="p-main">
              <strong>{formatRupiah(p.denomination)}</strong> · {p.meterNumber} · {p.holderName}
            </span>
            <span class="p-sub">
              <time dateTime={p.createdAt}>{formatDateTime(p.createdAt)}</time> · {formatKwh(p.kwh)} · <StatusBadge status={p.status} />
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}

const PAGE = 10;
const STATUSES: PurchaseStatus[] = ["SUCCESS", "PENDING", "FAILED", "REFUNDED"];

// Dates from <input type="date"> are Jakarta calendar days: [from 00:00, to+1 00:00) WIB.
const startOfDay = (day: string) => `${day}T00:00:00+07:00`;
function endOfDay(day: string): string {
  const next = new Date(`${day}T00:00:00+07:00`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

interface Filters {
  status: string;
  meter: string;
  from: string;
  to: string;
}

export function HistoryPage({ params }: { params: URLSearchParams }) {
  const client = useClient();
  const [filters, setFilters] = useState<Filters>({
    status: params.get("status") ?? "",
    meter: params.get("meter") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  });
  const [applied, setApplied] = useState<Filters>(filters);
  const [items, setItems] = useState<PurchaseSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<CombinedError | null>(null);
  const [metersResult] = useQuery({ query: BuyOptionsQuery });
  const meters = metersResult.data?.me?.meters ?? [];

  async function load(after: string | null, current: Filters) {
    setLoading(true);
    const vars = {
      first: PAGE,
      after,
      status: (current.status || null) as PurchaseStatus | null,
      from: current.from ? startOfDay(current.from) : null,
      to: current.to ? endOfDay(current.to) : null,
    };
    const page = current.meter
      ? await client.query(MeterHistoryQuery, { ...vars, number: current.meter }, { requestPolicy: "network-only" }).toPromise()
          .then((r) => ({ error: r.error, conn: r.data?.meter?.purchases }))
      : await client.query(HistoryQuery, vars, { requestPolicy: "network-only" }).toPromise()
          .then((r) => ({ error: r.error, conn: r.data?.me?.purchases }));
    setLoading(false);
    setError(page.error ?? null);
    if (!page.conn) return;
    setItems((prev) => (after ? [...prev, ...page.conn!.nodes] : [...page.conn!.nodes]));
    setCursor(page.conn.pageInfo.endCursor ?? null);
    setMore(page.conn.pageInfo.hasNextPage);
  }

  useEffect(() => {
    void load(null, applied);
  }, [applied]);

  const set = (name: keyof Filters) => (e: Event) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value });
  return (
    <>
      <PageTitle>{t("historyTitle")}</PageTitle>
      <form class="card filters" onSubmit={(e) => { e.preventDefault(); setApplied(filters); }}>
        <div class="field">
          <label for="f-status">{t("filterStatus")}</label>
          <select id="f-status" value={filters.status} onChange={set("status")}>
            <option value="">{t("all")}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{t(`status_${s}` as MessageKey)}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-meter">{t("filterMeter")}</label>
          <select id="f-meter" value={filters.meter} onChange={set("meter")}>
            <option value="">{t("all")}</option>
            {meters.map((m) => <option key={m.meter.number} value={m.meter.number}>{m.alias ? `${m.alias} · ` : ""}{m.meter.number}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-from">{t("filterFrom")}</label>
          <input id="f-from" type="date" value={filters.from} onChange={set("from")} />
        </div>
        <div class="field">
          <label for="f-to">{t("filterTo")}</label>
          <input id="f-to" type="date" value={filters.to} onChange={set("to")} />
        </div>
        <button type="submit" class="primary">{t("apply")}</button>
      </form>
      <ErrorAlert error={error} />
      <section class="card" aria-live="polite" aria-busy={loading}>
        {loading && items.length === 0 ? <Loading /> : <PurchaseList purchases={items} />}
        {more && (
          <button type="button" disabled={loading} onClick={() => void load(cursor, applied)}>
            {loading ? t("loading") : t("loadMore")}
          </button>
        )}
      </section>
    </>
  );
}
