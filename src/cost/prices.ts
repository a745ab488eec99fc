import prices from './prices.json' with { type: 'json' };

/** AWS list prices the cost model uses (`prices.json`: dated, each service with its source page). */
export type Prices = typeof prices;

export const PRICES: Prices = prices;
