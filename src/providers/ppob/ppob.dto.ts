import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsKnownStatus } from '../../topups/topup-callback.js';
import { PPOB_STATUS } from './ppob.facts.js';
import { IsPrintable } from '../../common/printable.js';

/**
 * A PPOB server transaction report (query fields). The document lists `Sn` and `Code` with a
 * capital letter and `sn`/`code` elsewhere: both spellings are accepted, the lower-case one wins
 * when both are sent. Unknown fields are accepted and kept in `raw`.
 */
export class PpobReportDto {
  /** The merchant's own refid, sent when the top-up was requested. */
  @IsString()
  @Matches(/\S/, { message: 'ref_id must not be empty' })
  @IsPrintable()
  @MaxLength(64)
  ref_id!: string;

  @IsKnownStatus(PPOB_STATUS, (value) => value.trim().toLowerCase())
  status!: string;

  /** Voucher serial number or token (PLN, operator). */
  @IsOptional()
  @IsString()
  sn?: string;

  @IsOptional()
  @IsString()
  Sn?: string;

  /** Product code (TS10, PLN20, …). */
  @IsOptional()
  @IsString()
  code?: string;

  @IsOptional()
  @IsString()
  Code?: string;

  @IsOptional()
  @IsString()
  destination?: string;

  [field: string]: unknown;
}
