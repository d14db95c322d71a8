"""Economics: who pays, who gains (DESIGN.md, Economics).

Pure functions over numpy arrays and pandas tables: the GP price, hours and adverse
events valued in NOK, the platform cost and its financing split, NPV and payback.
No Mesa, no I/O.
One concept per module, every public name re-exported here:

* :mod:`sim.economics.valuation`: annuity and capital-charge factors, NPV, hour values, the
  NOK value of search hours and adverse events, savings against no platform;
* :mod:`sim.economics.months`: calendar year of each month, the table years, who is on the
  platform each month, months on per year;
* :mod:`sim.economics.gp`: the GP price (:class:`GPPrice`), the money term of each alternative of a GP
  office's choice, break-even prices (:class:`GPValuation`) and payback;
* :mod:`sim.economics.platform`: platform cost by year, allocation keys and floor, the
  financing split (:func:`allocate_platform_cost`), the ex-ante bill, region scaling;
* :mod:`sim.economics.bill`: the municipal bill bottom-up (platform fee, local one-off, productivity
  dip, local running, legacy contract ended) and the bill a municipality expects
  (:func:`expected_net_cost_nok_per_inhabitant_year`, used in its decision);
* :mod:`sim.economics.tables`: the run's tables (:func:`run_economics`) and the cross-check
  against observed prices.

Money is 2023 NOK (real); years are calendar years; amounts shared between payers are
whole kroner by the largest-remainder method.

Choices where the brief left room (details in each docstring):

* "Joined" means live: past its go-live month (``muni_live_month``). A municipality that
  never goes live pays nothing and keeps its legacy record-system contract.
* The state grant (financing.grant_mode = grant) lowers the municipal part of the investment,
  spread over the years pro rata to it; as a loan the state pre-pays it and each joiner repays its
  share from its go-live year. The state and regional shares apply to what remains. GP licences are
  income of Helseplattformen AS that lowers its owners' operating bills pro rata (default).
* Every split among municipalities has a fixed part per municipality (financing.fixed_part_share)
  and a variable part by the key.
* Operating cost is shared among the municipalities live that year (weighted by months
  live); the floor key's floor is a minimum annual fee on that gross allocation.
* Investment is pre-financed by the region and charged to each joining municipality from its
  go-live year (principal carried at the discount rate, over
  ``economics.investment_annualisation_years``; 1 = a one-off at go-live, as in Averøy's offer of a
  one-off plus an annual fee); the region keeps the shares of municipalities that never join.
* The municipality's own costs (local one-off, productivity dip, local running, legacy contract
  ended) are :mod:`sim.economics.bill`.
* Gains are measured against nobody on the platform (the network metrics at x = 0).
* Largest-remainder rounding can move one krone the "wrong" way when a total changes
  (the Alabama paradox); monotonicity holds up to that krone per charge.
"""

from sim.economics.valuation import (
    PROVIDER_KINDS_VALUED, annuity_factor, capital_charge_factor, gain_value_nok, hour_value_nok, npv,
    savings_by_month,
)
from sim.economics.months import economics_years, month_years, months_on_by_year, on_platform_by_month, year_of_month
from sim.economics.gp import (
    GPPrice, GPValuation, break_even_licence_nok_per_gp_year, break_even_subsidy_nok_per_gp_year, gp_price,
    integrate_money_nok_per_gp_year, join_money_nok_per_gp_year, payback_years,
)
from sim.economics.platform import (
    PlatformAllocation, allocate_platform_cost, allocate_with_floor, allocation_weights, ex_ante_charges_nok,
    fixed_variable_shares, floor_nok_per_year, gp_licence_income_by_year, platform_cost_by_year, scaled_to_region,
    users_by_municipality,
)
from sim.economics.bill import (
    BILL_COMPONENTS, LOCAL_ONEOFF, PAID_TO_HELSEPLATTFORMEN, expected_bill_nok, expected_net_cost_nok_per_inhabitant_year,
    local_costs_by_year, municipal_bill,
)
from sim.economics.tables import (
    ACTORS, costs_gp, costs_municipality, hospital_replaced_systems_nok, run_economics, who_pays_who_gains,
)

__all__ = [
    "ACTORS", "BILL_COMPONENTS", "hospital_replaced_systems_nok", "LOCAL_ONEOFF", "PAID_TO_HELSEPLATTFORMEN", "expected_bill_nok", "fixed_variable_shares",
    "local_costs_by_year", "municipal_bill", "GPPrice", "GPValuation", "break_even_licence_nok_per_gp_year", "break_even_subsidy_nok_per_gp_year",
    "integrate_money_nok_per_gp_year", "join_money_nok_per_gp_year", "PROVIDER_KINDS_VALUED", "PlatformAllocation",
    "allocate_platform_cost", "allocate_with_floor", "allocation_weights", "annuity_factor",
    "capital_charge_factor", "costs_gp", "costs_municipality", "economics_years",
    "ex_ante_charges_nok", "expected_net_cost_nok_per_inhabitant_year", "floor_nok_per_year", "gain_value_nok",
    "gp_licence_income_by_year", "gp_price", "hour_value_nok", "month_years", "months_on_by_year", "npv",
    "on_platform_by_month", "payback_years", "platform_cost_by_year", "run_economics",
    "savings_by_month", "scaled_to_region", "users_by_municipality", "who_pays_who_gains", "year_of_month",
]
