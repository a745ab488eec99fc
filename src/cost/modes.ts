import type { DeliveryMode } from '../config/delivery-mode.ts';
import { type CostInputs, monthlyCost, type ServiceCost } from './model.ts';
import { type PartitionInputs, type PartitionReport, partitionReport } from './partitions.ts';
import { type RequirementCost, requirementCosts } from './requirements.ts';

/** One delivery mode at the workload: its bill, its capacity down to partitions, and each requirement's price. */
export interface ModeReport {
  mode: DeliveryMode;
  monthlyUsd: number;
  usdPerMillionEvents: number;
  services: ServiceCost[];
  capacity: PartitionReport;
  requirements: RequirementCost[];
}

export function modeReports(
  inputs: CostInputs,
  partition: PartitionInputs,
  modes: readonly DeliveryMode[],
): ModeReport[] {
  return modes.map((mode) => {
    const atMode: CostInputs = { ...inputs, deliveryMode: mode };
    const cost = monthlyCost(atMode);
    return {
      mode,
      monthlyUsd: cost.monthlyUsd,
      usdPerMillionEvents: cost.usdPerMillionEvents,
      services: cost.services,
      capacity: partitionReport(atMode, partition),
      requirements: requirementCosts(atMode, {
        eventTypeIndexAll: partition.eventTypeProjection === 'ALL',
        symbolIndexAll: partition.symbolProjection === 'ALL',
      }),
    };
  });
}
